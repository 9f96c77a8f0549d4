package depot.gateway.dashboard;

import depot.protocol.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The dashboard's view of what happens in the cluster. It listens to the directory's and the coordinator's
 * events, keeps the latest {@value #CAPACITY} in a ring buffer (served, filtered per viewer, by
 * {@code GET /api/v1/events}) and republishes a <em>sanitized</em> copy on {@link #PUBLIC_ADDRESS}, the only
 * address the SockJS bridge lets out.
 *
 * <p>The sanitized copy carries event types, node ids, statuses and counts, never an owner, a file name, a
 * size or a blob id: anybody who can open the page's socket may read it. File-level events are coalesced
 * into one {@code files.changed} message per {@value #COALESCE_MS} ms with counts per type, so a burst of
 * deposits costs the browsers one refresh, not thousands.
 *
 * <p>Runs on the gateway verticle's context: every handler here runs on one event-loop thread.
 */
final class DashboardFeed {
  /** Where the sanitized events go; the bridge permits this address outbound and nothing else. */
  static final String PUBLIC_ADDRESS = "depot.dashboard.events";
  static final int CAPACITY = 1000;
  static final long COALESCE_MS = 300;
  static final long LEADER_POLL_MS = 2000;

  /** Event types about nodes and the coordinator: public, nothing in them belongs to a client. */
  private static final Set<String> NODE_TYPES = Set.of("node.up", "node.down", "node.registered",
      "node.unregistered", "replica.added", "replica.removed", "leader.elected", "leader.unavailable");

  private final Vertx vertx;
  private final Deque<JsonObject> ring = new ArrayDeque<>();
  private final Map<String, Integer> pendingCounts = new LinkedHashMap<>();
  private long seq;
  private long coalesceTimer = -1;
  private int watchers;
  private String leader;
  private int leaderFailures;

  DashboardFeed(Vertx vertx) {
    this.vertx = vertx;
  }

  void start() {
    vertx.eventBus().<Object>consumer(Addresses.DIRECTORY_EVENTS, this::onDirectoryEvent);
    vertx.eventBus().<Object>consumer(Addresses.COORDINATOR_EVENTS, this::onCoordinatorEvent);
    vertx.setPeriodic(LEADER_POLL_MS, id -> pollLeader());
  }

  /** A dashboard socket opened or closed; the leader is only watched while somebody looks. */
  void watchers(int delta) {
    watchers = Math.max(0, watchers + delta);
  }

  long latest() {
    return seq;
  }

  /** Events after {@code since}, oldest first, at most {@code limit}: everything for the admin. */
  List<JsonObject> forAdmin(long since, int limit) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject e : ring) {
      if (e.getLong("seq") > since) {
        out.add(e.copy());
      }
    }
    return tail(out, limit);
  }

  /** Events after {@code since} that a client may see: node-level events, and its own files' events. */
  List<JsonObject> forClient(String clientId, long since, int limit) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject e : ring) {
      if (e.getLong("seq") <= since) {
        continue;
      }
      String type = e.getString("type");
      if (NODE_TYPES.contains(type)) {
        out.add(sanitized(e));
      } else if (clientId != null && clientId.equals(e.getString("owner"))) {
        JsonObject own = e.copy();
        own.remove("blobId");
        out.add(own);
      }
    }
    return tail(out, limit);
  }

  private static List<JsonObject> tail(List<JsonObject> events, int limit) {
    return events.size() <= limit ? events : new ArrayList<>(events.subList(events.size() - limit, events.size()));
  }

  // ---- sources ----

  private void onDirectoryEvent(Message<Object> msg) {
    if (!(msg.body() instanceof JsonObject body) || body.getString("type") == null) {
      return;
    }
    JsonObject node = body.getJsonObject("node", new JsonObject());
    JsonObject event = new JsonObject().put("type", body.getString("type")).put("node", node.getString("id"));
    String status = node.getString("status");
    if (status == null && "node.unregistered".equals(body.getString("type"))) {
      status = "GONE";
    }
    event.put("status", status);
    if (node.getValue("roles") instanceof JsonArray roles) {
      event.put("roles", roles.copy());
    }
    if (node.getString("host") != null) {
      event.put("host", node.getString("host"));
    }
    record(event);
  }

  private void onCoordinatorEvent(Message<Object> msg) {
    if (!(msg.body() instanceof JsonObject body) || body.getString("type") == null) {
      return;
    }
    JsonObject event = new JsonObject().put("type", body.getString("type"));
    for (String key : new String[] {"owner", "name", "size", "version", "deduplicated", "replicas", "liveReplicas",
        "blobId", "node"}) {
      if (body.getValue(key) != null) {
        event.put(key, body.getValue(key));
      }
    }
    record(event);
  }

  private void pollLeader() {
    if (watchers == 0) {
      return;
    }
    vertx.eventBus().<JsonObject>request(Addresses.COORDINATOR_STATS, new JsonObject(),
            new DeliveryOptions().setSendTimeout(5000))
        .onSuccess(reply -> {
          leaderFailures = 0;
          String now = reply.body().getString("leader");
          if (now != null && !now.equals(leader)) {
            JsonObject event = new JsonObject().put("type", "leader.elected").put("node", now);
            if (leader != null) {
              event.put("previous", leader);
            }
            leader = now;
            record(event);
          }
        })
        .onFailure(err -> {
          // Two misses in a row, not one slow answer, before the page is told nobody leads.
          if (++leaderFailures == 2 && leader != null) {
            record(new JsonObject().put("type", "leader.unavailable").put("previous", leader));
            leader = null;
          }
        });
  }

  // ---- ring buffer and the public copy ----

  private void record(JsonObject event) {
    event.put("seq", ++seq).put("at", Instant.now().toString());
    ring.addLast(event);
    while (ring.size() > CAPACITY) {
      ring.removeFirst();
    }
    String type = event.getString("type");
    if (NODE_TYPES.contains(type) && !type.startsWith("replica.")) {
      publish(sanitized(event));
    } else {
      pendingCounts.merge(type, 1, Integer::sum);
      if (coalesceTimer < 0) {
        coalesceTimer = vertx.setTimer(COALESCE_MS, id -> flushCounts());
      }
    }
  }

  private void flushCounts() {
    coalesceTimer = -1;
    if (pendingCounts.isEmpty()) {
      return;
    }
    JsonObject counts = new JsonObject();
    pendingCounts.forEach(counts::put);
    pendingCounts.clear();
    publish(new JsonObject().put("type", "files.changed").put("counts", counts).put("seq", seq)
        .put("at", Instant.now().toString()));
  }

  private void publish(JsonObject event) {
    // Local only: every gateway republishes what it hears itself, so nothing is doubled across nodes.
    vertx.eventBus().publish(PUBLIC_ADDRESS, event, new DeliveryOptions().setLocalOnly(true));
  }

  /** The public form of a node-level event: type, node id, status, when. Nothing about any client. */
  static JsonObject sanitized(JsonObject event) {
    JsonObject out = new JsonObject().put("seq", event.getLong("seq")).put("at", event.getString("at"))
        .put("type", event.getString("type"));
    for (String key : new String[] {"node", "status", "previous"}) {
      if (event.getString(key) != null) {
        out.put(key, event.getString(key));
      }
    }
    return out;
  }
}
