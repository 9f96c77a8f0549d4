package depot.cli;

import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;

/**
 * Sends a request again, with exponential backoff (resilience4j), while the server answers 502, 503 or 504
 * (no leading coordinator during a failover, a storage node lost in the middle of a deposit) or the
 * connection breaks during the exchange: such failures pass within seconds. A server that cannot be reached
 * at all fails at once (a wrong address or a stopped gateway does not pass by waiting), as does every other
 * answer. {@code DEPOT_RETRY_SECONDS} bounds the waiting (20 s by default; 0 sends once).
 *
 * <p>A deposit sent again after the server had stored it (its answer lost) finds the same content under the
 * same name: nothing is uploaded again, and the name gets one more version.
 */
public final class Retrying {
  public static final String RETRY_SECONDS_ENV = "DEPOT_RETRY_SECONDS";
  static final int DEFAULT_RETRY_SECONDS = 20;
  static final Duration FIRST_WAIT = Duration.ofMillis(250);
  static final Duration LONGEST_WAIT = Duration.ofSeconds(4);

  private Retrying() {}

  /** One attempt of a request. */
  @FunctionalInterface
  public interface Attempt<T> {
    T run() throws Exception;
  }

  /**
   * Runs {@code attempt} until it gives an answer that is not "unavailable" ({@code status} of the answer)
   * or the time is spent; then the last answer or failure stands.
   */
  public static <T> T call(CliContext ctx, String what, Attempt<T> attempt, ToIntFunction<T> status) throws Exception {
    AtomicInteger lastStatus = new AtomicInteger();
    RetryConfig config = RetryConfig.<T>custom()
        .maxAttempts(attemptsWithin(Duration.ofSeconds(retrySeconds(ctx))))
        .intervalFunction(IntervalFunction.ofExponentialBackoff(FIRST_WAIT, 2.0, LONGEST_WAIT))
        .retryOnResult(answer -> {
          lastStatus.set(status.applyAsInt(answer));
          return unavailable(lastStatus.get());
        })
        .retryOnException(Retrying::passing)
        .build();
    Retry retry = Retry.of(what, config);
    retry.getEventPublisher().onRetry(e -> ctx.err().printf("depot: %s: %s; trying again in %d ms%n", what,
        e.getLastThrowable() != null ? e.getLastThrowable().getMessage() : "server unavailable (HTTP " + lastStatus.get() + ")",
        e.getWaitInterval().toMillis()));
    try {
      return retry.executeCheckedSupplier(attempt::run);
    } catch (Exception | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  static boolean unavailable(int status) {
    return status == 502 || status == 503 || status == 504;
  }

  /** A broken exchange passes; a server never reached does not. */
  static boolean passing(Throwable t) {
    Throwable cause = t instanceof CliException && t.getCause() != null ? t.getCause() : t;
    return cause instanceof IOException && !(cause instanceof ConnectException)
        && !(cause instanceof HttpConnectTimeoutException) && !(cause instanceof UnknownHostException);
  }

  static int retrySeconds(CliContext ctx) {
    String value = ctx.env(RETRY_SECONDS_ENV);
    if (value == null) {
      return DEFAULT_RETRY_SECONDS;
    }
    try {
      int seconds = Integer.parseInt(value);
      if (seconds >= 0) {
        return seconds;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new CliException(RETRY_SECONDS_ENV + " must be a number of seconds, 0 or more; got '" + value + "'", 2, null);
  }

  /** Attempts whose waits in between (250 ms, doubling, at most 4 s each) fit in {@code budget}. */
  static int attemptsWithin(Duration budget) {
    int attempts = 1;
    long spent = 0;
    long wait = FIRST_WAIT.toMillis();
    while (spent + wait <= budget.toMillis()) {
      spent += wait;
      attempts++;
      wait = Math.min(wait * 2, LONGEST_WAIT.toMillis());
    }
    return attempts;
  }
}
