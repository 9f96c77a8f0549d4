package depot.storage;

import io.github.bucket4j.Bucket;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

import java.time.Duration;

/**
 * A {@link ReadStream} of buffers that passes on no more bytes per second than a token bucket allows.
 * Throttling is backpressure only: the stream pulls one buffer at a time from the stream it wraps, passes it
 * on at once, takes its size from the bucket (which may go into debt), and does not ask for the next
 * buffer until the debt is paid off. Nothing is ever held back in a buffer of its own. Streams that share
 * one bucket share its rate.
 */
public final class ThrottledReadStream implements ReadStream<Buffer> {
  /** The smallest bucket: a burst of one typical disk read still fits. */
  static final long MIN_CAPACITY = 2 * 1024 * 1024;

  private final Vertx vertx;
  private final ReadStream<Buffer> upstream;
  private final Bucket bucket;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private final Demand demand = new Demand();
  /** A buffer has been asked of the upstream and has not arrived yet. */
  private boolean requested;
  /** Waiting for the bucket to refill. */
  private boolean throttled;
  private boolean ended;

  public ThrottledReadStream(Vertx vertx, ReadStream<Buffer> upstream, Bucket bucket) {
    this.vertx = vertx;
    this.upstream = upstream;
    this.bucket = bucket;
    upstream.pause();
  }

  /**
   * A bucket for {@code bytesPerSecond}, refilled continuously, holding a burst of a tenth of a second (at
   * least {@link #MIN_CAPACITY}); null when {@code bytesPerSecond} is 0 (no limit).
   */
  public static Bucket bucket(long bytesPerSecond) {
    if (bytesPerSecond <= 0) {
      return null;
    }
    long capacity = Math.max(MIN_CAPACITY, bytesPerSecond / 10);
    return Bucket.builder()
        .addLimit(limit -> limit.capacity(capacity).refillGreedy(bytesPerSecond, Duration.ofSeconds(1)))
        .build();
  }

  /** {@code upstream} itself when {@code bucket} is null (no limit), else throttled by it. */
  public static ReadStream<Buffer> wrap(Vertx vertx, ReadStream<Buffer> upstream, Bucket bucket) {
    return bucket == null ? upstream : new ThrottledReadStream(vertx, upstream, bucket);
  }

  @Override
  public ThrottledReadStream exceptionHandler(Handler<Throwable> handler) {
    upstream.exceptionHandler(handler);
    return this;
  }

  @Override
  public ThrottledReadStream handler(Handler<Buffer> handler) {
    this.handler = handler;
    if (handler == null) {
      upstream.handler(null);
    } else {
      upstream.handler(this::onBuffer);
      pull();
    }
    return this;
  }

  @Override
  public ThrottledReadStream pause() {
    demand.pause();
    return this;
  }

  @Override
  public ThrottledReadStream resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public ThrottledReadStream fetch(long amount) {
    if (amount > 0) {
      demand.add(amount);
      pull();
    }
    return this;
  }

  @Override
  public ThrottledReadStream endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    upstream.endHandler(v -> {
      ended = true;
      if (this.endHandler != null) {
        this.endHandler.handle(null);
      }
    });
    return this;
  }

  private void pull() {
    if (!requested && !throttled && !ended && demand.any() && handler != null) {
      requested = true;
      upstream.fetch(1);
    }
  }

  private void onBuffer(Buffer buf) {
    requested = false;
    demand.takeOne();
    long waitNanos = buf.length() == 0 ? 0 : bucket.consumeIgnoringRateLimits(buf.length());
    Handler<Buffer> h = handler;
    if (h != null) {
      h.handle(buf);
    }
    if (waitNanos > 0) {
      throttled = true;
      vertx.setTimer(Math.max(1, (waitNanos + 999_999) / 1_000_000), id -> {
        throttled = false;
        pull();
      });
    } else {
      pull();
    }
  }
}
