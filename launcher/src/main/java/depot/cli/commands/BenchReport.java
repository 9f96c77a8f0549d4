package depot.cli.commands;

import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The figures of one bench phase (deposit or retrieve). Worker threads record into it concurrently;
 * latencies go into an HdrHistogram in microseconds, which keeps percentiles exact to 3 digits.
 */
final class BenchReport {
  private final String phase;
  private final Histogram latencyMicros = new ConcurrentHistogram(3);
  private final LongAdder files = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final AtomicReference<String> firstError = new AtomicReference<>();
  private volatile long elapsedNanos;

  BenchReport(String phase) {
    this.phase = phase;
  }

  String phase() {
    return phase;
  }

  void success(long latencyNanos, long byteCount) {
    latencyMicros.recordValue(Math.max(1, latencyNanos / 1_000));
    files.increment();
    bytes.add(byteCount);
  }

  void error(String message) {
    errors.increment();
    firstError.compareAndSet(null, message);
  }

  void finish(long elapsedNanos) {
    this.elapsedNanos = elapsedNanos;
  }

  long errors() {
    return errors.sum();
  }

  String firstError() {
    return firstError.get();
  }

  double elapsedSeconds() {
    return elapsedNanos / 1e9;
  }

  /** Megabytes (10^6 bytes) per second, as disks and networks are rated. */
  double megabytesPerSecond() {
    return perSecond(bytes.sum()) / 1e6;
  }

  double mebibytesPerSecond() {
    return perSecond(bytes.sum()) / (1 << 20);
  }

  double filesPerSecond() {
    return perSecond(files.sum());
  }

  double percentileMillis(double percentile) {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
  }

  double maxMillis() {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMaxValue() / 1000.0;
  }

  private double perSecond(long count) {
    return elapsedNanos <= 0 ? 0 : count / elapsedSeconds();
  }

  /** One greppable line: {@code deposit: files=1000 bytes=4096000 elapsed=0.71s ... errors=0}. */
  String line() {
    return String.format(Locale.ROOT,
        "%s: files=%d bytes=%d elapsed=%.2fs throughput=%.1fMB/s (%.1fMiB/s) rate=%.1ffiles/s"
            + " p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms errors=%d",
        phase, files.sum(), bytes.sum(), elapsedSeconds(), megabytesPerSecond(), mebibytesPerSecond(),
        filesPerSecond(), percentileMillis(50), percentileMillis(90), percentileMillis(99), maxMillis(),
        errors.sum());
  }

  JsonObject toJson() {
    return new JsonObject()
        .put("files", files.sum())
        .put("bytes", bytes.sum())
        .put("elapsedSeconds", round(elapsedSeconds(), 3))
        .put("megabytesPerSecond", round(megabytesPerSecond(), 3))
        .put("mebibytesPerSecond", round(mebibytesPerSecond(), 3))
        .put("filesPerSecond", round(filesPerSecond(), 3))
        .put("p50Ms", percentileMillis(50))
        .put("p90Ms", percentileMillis(90))
        .put("p99Ms", percentileMillis(99))
        .put("maxMs", maxMillis())
        .put("errors", errors.sum());
  }

  private static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }
}
