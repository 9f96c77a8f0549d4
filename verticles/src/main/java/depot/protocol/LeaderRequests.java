package depot.protocol;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Requests to a role that has a leader (the coordinators, the directories). While leadership moves — the
 * leader died and a standby is taking over — a request finds no handler, times out, or reaches a node that
 * stepped down; it is asked again until the failover window closes. A request that was sent to a leader
 * that then died would only hear its timeout: when a new leader is elected ({@link Addresses#ELECTION_EVENTS})
 * every request still waiting is sent again at once, and the first answer wins. Every request sent this way
 * must be safe to repeat, also while an earlier copy is still being handled (the coordinator makes commits
 * idempotent for that reason).
 */
public final class LeaderRequests {
  private static final long FIRST_BACKOFF_MS = 200;
  private static final long MAX_BACKOFF_MS = 1000;

  private final Vertx vertx;
  private final long failoverWindowMs;
  private final Set<Pending<?>> waiting = new LinkedHashSet<>();

  /** One request and its attempts; the latest attempt decides on retries, any attempt's answer completes it. */
  private static final class Pending<T> {
    final String address;
    final Object body;
    final long attemptTimeoutMs;
    final long deadline;
    final Promise<Message<T>> result = Promise.promise();
    int latest;
    int outstanding;
    /** How the latest attempt ended, if it failed for good: the answer once no other attempt is out. */
    Throwable failure;

    Pending(String address, Object body, long attemptTimeoutMs, long deadline) {
      this.address = address;
      this.body = body;
      this.attemptTimeoutMs = attemptTimeoutMs;
      this.deadline = deadline;
    }
  }

  /** To be created on the event loop that uses it: it listens for election results there. */
  public LeaderRequests(Vertx vertx, long failoverWindowMs) {
    this.vertx = vertx;
    this.failoverWindowMs = failoverWindowMs;
    vertx.eventBus().<Object>consumer(Addresses.ELECTION_EVENTS, msg -> {
      if (msg.body() instanceof JsonObject event && "leader.elected".equals(event.getString("type"))) {
        List.copyOf(waiting).forEach(p -> attempt(p, FIRST_BACKOFF_MS));
      }
    });
  }

  public <T> Future<Message<T>> request(String address, Object body, long attemptTimeoutMs) {
    Pending<T> p = new Pending<>(address, body, attemptTimeoutMs, System.currentTimeMillis() + failoverWindowMs);
    waiting.add(p);
    attempt(p, FIRST_BACKOFF_MS);
    return p.result.future().onComplete(ar -> waiting.remove(p));
  }

  private <T> void attempt(Pending<T> p, long backoff) {
    if (p.result.future().isComplete()) {
      return;
    }
    int attempt = ++p.latest;
    p.outstanding++;
    vertx.eventBus().<T>request(p.address, p.body, new DeliveryOptions().setSendTimeout(p.attemptTimeoutMs)).onComplete(ar -> {
      p.outstanding--;
      if (ar.succeeded()) {
        p.result.tryComplete(ar.result());
        return;
      }
      if (attempt == p.latest) {
        if (leaderMissing(ar.cause()) && System.currentTimeMillis() + backoff < p.deadline) {
          vertx.setTimer(backoff, id -> {
            if (attempt == p.latest) {
              attempt(p, Math.min(MAX_BACKOFF_MS, backoff * 2));
            }
          });
          return;
        }
        p.failure = ar.cause();
      }
      // An earlier attempt (overtaken when a new leader was elected) may still answer.
      if (p.outstanding == 0 && p.failure != null) {
        p.result.tryFail(p.failure);
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
