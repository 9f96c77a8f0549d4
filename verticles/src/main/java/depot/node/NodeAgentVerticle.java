package depot.node;

import depot.config.DepotConfig;
import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * Announces this node to the directory and keeps it alive with heartbeats carrying disk and replica
 * figures. Registration is retried while the directory is not reachable yet, or while the record of a
 * previous process with the same id has not expired.
 */
public class NodeAgentVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(NodeAgentVerticle.class);

  private final DepotConfig config;
  private final NodeIdentity identity;
  private final JsonObject endpoints;
  private final Supplier<Future<JsonObject>> stats;
  private long beatTimer = -1;
  private boolean registered;
  /** This node's clock minus the directory's, from the last heartbeat round trip (null until measured). */
  private Long clockOffsetMs;
  /** What the leading coordinator's last Berkeley round told this node to add to its clock. */
  private long clockCorrectionMs;

  public NodeAgentVerticle(DepotConfig config, NodeIdentity identity, JsonObject endpoints,
                           Supplier<Future<JsonObject>> stats) {
    this.config = config;
    this.identity = identity;
    this.endpoints = endpoints;
    this.stats = stats;
  }

  @Override
  public Future<?> start() {
    vertx.eventBus().<Object>consumer(Addresses.nodeClock(identity.nodeId()), this::clockRequest);
    Promise<Void> first = Promise.promise();
    registerUntilAccepted(first, System.currentTimeMillis());
    return first.future().onSuccess(v ->
        beatTimer = vertx.setPeriodic(config.heartbeatIntervalMs(), id -> beat()));
  }

  @Override
  public Future<?> stop() {
    if (beatTimer >= 0) {
      vertx.cancelTimer(beatTimer);
    }
    return Future.succeededFuture();
  }

  private JsonObject registration() {
    return new JsonObject()
        .put("name", identity.nodeId())
        .put("instance", identity.instanceId())
        .put("rank", identity.rank())
        .put("roles", new JsonArray(config.roles()))
        .put("host", config.advertisedHost())
        .put("endpoints", endpoints);
  }

  private void registerUntilAccepted(Promise<Void> done, long startedAt) {
    // The first figures travel with the registration: placement must not see a new node as full.
    stats.get().recover(err -> Future.succeededFuture(new JsonObject()))
        .compose(figures -> vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_REGISTER,
            registration().put("stats", figures), new DeliveryOptions().setSendTimeout(5000)))
        .compose(reply -> vertx.executeBlocking(() -> {
          identity.rememberRank(reply.body().getInteger("rank"));
          return reply.body();
        }))
        .onSuccess(body -> {
          registered = true;
          log.info("{} registered with the directory, rank {}", identity.nodeId(), body.getInteger("rank"));
          done.tryComplete();
        })
        .onFailure(err -> {
          DepotException e = DepotException.from(err);
          long waited = System.currentTimeMillis() - startedAt;
          // Twice the expiry: a previous process of ours is declared dead by then.
          long patience = Math.max(60_000, 2 * config.nodeExpiryMs());
          if (waited > patience) {
            done.tryFail(new IllegalStateException("could not register " + identity.nodeId() + ": " + e.getMessage()));
            return;
          }
          if (e.code() == ErrorCode.DUPLICATE_NAME) {
            log.info("{} still held by an earlier process; retrying", identity.nodeId());
          } else {
            log.debug("directory not reachable yet ({}); retrying", e.getMessage());
          }
          vertx.setTimer(500, id -> registerUntilAccepted(done, startedAt));
        });
  }

  /** Berkeley: the coordinator reads this node's raw clock, and later sends the correction to keep. */
  private void clockRequest(io.vertx.core.eventbus.Message<Object> msg) {
    if (!(msg.body() instanceof JsonObject body)) {
      DepotException.badRequest("expected a JSON object").replyTo(msg);
      return;
    }
    switch (body.getString("action", "")) {
      case "read" -> msg.reply(new JsonObject().put("time", System.currentTimeMillis()));
      case "adjust" -> {
        Object correction = body.getValue("correctionMs");
        if (!(correction instanceof Number n)) {
          DepotException.badRequest("'correctionMs' must be a number").replyTo(msg);
          return;
        }
        clockCorrectionMs = n.longValue();
        msg.reply(new JsonObject().put("correctionMs", clockCorrectionMs));
      }
      default -> DepotException.badRequest("unknown clock action").replyTo(msg);
    }
  }

  /** Cristian's algorithm: the directory read its clock about half a round trip before the reply arrived. */
  private void measureClock(long sentAt, JsonObject reply) {
    Long directoryTime = reply.getLong("time");
    if (directoryTime != null) {
      long receivedAt = System.currentTimeMillis();
      clockOffsetMs = receivedAt - (directoryTime + (receivedAt - sentAt) / 2);
    }
  }

  private void beat() {
    if (!registered) {
      return;
    }
    stats.get()
        .compose(s -> {
          if (clockOffsetMs != null) {
            s.put("clockOffsetMs", clockOffsetMs);
          }
          s.put("clockCorrectionMs", clockCorrectionMs);
          long sentAt = System.currentTimeMillis();
          return vertx.eventBus().<JsonObject>request(Addresses.DIRECTORY_HEARTBEAT,
                  new JsonObject().put("name", identity.nodeId()).put("instance", identity.instanceId()).put("stats", s),
                  new DeliveryOptions().setSendTimeout(Math.max(1000, config.heartbeatIntervalMs() * 2)))
              .onSuccess(reply -> measureClock(sentAt, reply.body()));
        })
        .onFailure(err -> {
          DepotException e = DepotException.from(err);
          if (e.code() == ErrorCode.NOT_FOUND) {
            // The directory lost our record (unregistered, or a new directory): announce ourselves again.
            registered = false;
            Promise<Void> again = Promise.promise();
            registerUntilAccepted(again, System.currentTimeMillis());
          } else {
            log.debug("heartbeat failed: {}", e.getMessage());
          }
        });
  }
}
