package depot.coordinator;

import depot.protocol.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Berkeley-style clock synchronisation run by the leading coordinator (the old reference service's
 * algorithm): poll every live node's clock, estimate each offset from the round trip, average the ones
 * that agree, and send every node its correction. Nodes keep the correction for the times they report;
 * the machines' own clocks are left alone (that is NTP's job).
 */
final class ClockSync {
  private static final Logger log = LoggerFactory.getLogger(ClockSync.class);
  private static final long TOLERANCE_MS = 10_000;

  private final Vertx vertx;
  private final String selfId;
  private JsonObject lastRound = new JsonObject().put("nodes", new JsonArray());

  ClockSync(Vertx vertx, String selfId) {
    this.vertx = vertx;
    this.selfId = selfId;
  }

  JsonObject lastRound() {
    return lastRound.copy();
  }

  /** One round over the given live node ids (the coordinator's own node included as the reference). */
  Future<JsonObject> round(List<String> nodeIds) {
    List<Future<JsonObject>> reads = new ArrayList<>();
    for (String id : nodeIds) {
      long sentAt = System.currentTimeMillis();
      reads.add(vertx.eventBus().<JsonObject>request(Addresses.nodeClock(id), new JsonObject().put("action", "read"),
              new DeliveryOptions().setSendTimeout(2000))
          .map(reply -> {
            long receivedAt = System.currentTimeMillis();
            long rtt = receivedAt - sentAt;
            long offset = reply.body().getLong("time") + rtt / 2 - receivedAt;
            return new JsonObject().put("id", id).put("offsetMs", offset).put("rttMs", rtt);
          }));
    }
    return Future.join(reads).transform(ar -> {
      Map<String, Long> offsets = new LinkedHashMap<>();
      Map<String, Long> rtts = new LinkedHashMap<>();
      offsets.put(selfId, 0L);
      rtts.put(selfId, 0L);
      for (Future<JsonObject> read : reads) {
        if (read.succeeded()) {
          offsets.put(read.result().getString("id"), read.result().getLong("offsetMs"));
          rtts.put(read.result().getString("id"), read.result().getLong("rttMs"));
        }
      }
      Map<String, Long> corrections = BerkeleyAverage.corrections(offsets, TOLERANCE_MS);
      JsonArray nodes = new JsonArray();
      List<Future<?>> adjustments = new ArrayList<>();
      corrections.forEach((id, correction) -> {
        nodes.add(new JsonObject().put("id", id).put("offsetMs", offsets.get(id)).put("rttMs", rtts.get(id))
            .put("correctionMs", correction));
        adjustments.add(vertx.eventBus().request(Addresses.nodeClock(id),
            new JsonObject().put("action", "adjust").put("correctionMs", correction),
            new DeliveryOptions().setSendTimeout(2000)));
      });
      lastRound = new JsonObject().put("master", selfId).put("at", Instant.now().toString())
          .put("agreedOffsetMs", BerkeleyAverage.average(offsets, TOLERANCE_MS)).put("nodes", nodes);
      log.debug("clock round: {}", lastRound.encode());
      return Future.join(adjustments).transform(done -> Future.succeededFuture(lastRound.copy()));
    });
  }
}
