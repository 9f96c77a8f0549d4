package depot.storage;

/**
 * How many more buffers the reader of a {@link io.vertx.core.streams.ReadStream} has asked for: unbounded while it
 * flows, none while it is paused, a count after {@code fetch(n)}.
 */
final class Demand {
  private long wanted = Long.MAX_VALUE;

  void pause() {
    wanted = 0;
  }

  /** {@code fetch(amount)}, amount above 0; {@code resume()} is {@code add(Long.MAX_VALUE)}. */
  void add(long amount) {
    wanted = wanted > Long.MAX_VALUE - amount ? Long.MAX_VALUE : wanted + amount;
  }

  boolean any() {
    return wanted > 0;
  }

  /** One buffer handed out. */
  void takeOne() {
    if (wanted != Long.MAX_VALUE && wanted > 0) {
      wanted--;
    }
  }
}
