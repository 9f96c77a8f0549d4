package depot.protocol;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * Requests to a role that has a leader (the coordinators, the directories). While leadership moves — the
 * leader died and a standby is taking over — a request finds no handler, times out, or reaches a node that
 * stepped down; it is asked again until the failover window closes. Every request sent this way must be
 * safe to repeat (the coordinator makes commits idempotent for that reason).
 */
public final class LeaderRequests {
  private static final long FIRST_BACKOFF_MS = 200;
  private static final long MAX_BACKOFF_MS = 1000;

  private final Vertx vertx;
  private final long failoverWindowMs;

  public LeaderRequests(Vertx vertx, long failoverWindowMs) {
    this.vertx = vertx;
    this.failoverWindowMs = failoverWindowMs;
  }

  public <T> Future<Message<T>> request(String address, Object body, long attemptTimeoutMs) {
    Promise<Message<T>> result = Promise.promise();
    attempt(address, body, attemptTimeoutMs, System.currentTimeMillis() + failoverWindowMs, FIRST_BACKOFF_MS, result);
    return result.future();
  }

  private <T> void attempt(String address, Object body, long timeoutMs, long deadline, long backoff,
                           Promise<Message<T>> result) {
    vertx.eventBus().<T>request(address, body, new DeliveryOptions().setSendTimeout(timeoutMs)).onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(ar.result());
      } else if (leaderMissing(ar.cause()) && System.currentTimeMillis() + backoff < deadline) {
        vertx.setTimer(backoff, id -> attempt(address, body, timeoutMs, deadline,
            Math.min(MAX_BACKOFF_MS, backoff * 2), result));
      } else {
        result.fail(ar.cause());
      }
    });
  }

  /** No handler, no answer, or an answer from a node that does not lead: the leader is changing. */
  static boolean leaderMissing(Throwable err) {
    if (err instanceof ReplyException re && re.failureType() != ReplyFailure.RECIPIENT_FAILURE) {
      return true;
    }
    return DepotException.from(err).code() == ErrorCode.NOT_LEADER;
  }
}
