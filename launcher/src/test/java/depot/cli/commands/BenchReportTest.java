package depot.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class BenchReportTest {

  @Test
  void lineHasAllFiguresInAGreppableForm() {
    BenchReport report = new BenchReport("deposit");
    for (int i = 1; i <= 100; i++) {
      report.success(i * 1_000_000L, 4096); // 1 ms .. 100 ms
    }
    report.error("boom");
    report.finish(2_000_000_000L);

    assertEquals("deposit: files=100 bytes=409600 elapsed=2.00s throughput=0.2MB/s (0.2MiB/s) rate=50.0files/s"
        + " p50=50.0ms p90=90.0ms p99=99.0ms max=100.0ms errors=1", report.line());
    assertEquals("boom", report.firstError());

    JsonObject json = report.toJson();
    assertEquals(100, json.getLong("files"));
    assertEquals(409600, json.getLong("bytes"));
    assertEquals(0.205, json.getDouble("megabytesPerSecond"));
    assertEquals(50.0, json.getDouble("filesPerSecond"));
    assertEquals(1, json.getLong("errors"));
    assertTrue(json.getDouble("p99Ms") >= 98.9 && json.getDouble("p99Ms") <= 99.1);
  }

  @Test
  void emptyPhaseReportsZeros() {
    BenchReport report = new BenchReport("retrieve");
    report.finish(0);
    assertEquals("retrieve: files=0 bytes=0 elapsed=0.00s throughput=0.0MB/s (0.0MiB/s) rate=0.0files/s"
        + " p50=0.0ms p90=0.0ms p99=0.0ms max=0.0ms errors=0", report.line());
  }

  @Test
  void sharesSplitEvenly() {
    assertEquals(4, BenchCommand.share(10, 3, 0));
    assertEquals(3, BenchCommand.share(10, 3, 1));
    assertEquals(3, BenchCommand.share(10, 3, 2));
    assertEquals(0, BenchCommand.share(2, 3, 2));
  }
}
