package depot.directory;

import depot.config.DepotConfig;
import depot.election.Election;
import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.servicediscovery.Record;
import io.vertx.servicediscovery.ServiceDiscovery;
import io.vertx.servicediscovery.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * The registry on Vert.x Service Discovery: register (no duplicate names), look up, unregister,
 * heartbeats, cluster-wide ranks, and expiry of registrations whose heartbeats stop (announced as
 * node.down on {@link Addresses#DIRECTORY_EVENTS}).
 */
public class DirectoryVerticle extends VerticleBase {
  public static final String RECORD_TYPE = "depot-node";
  private static final Logger log = LoggerFactory.getLogger(DirectoryVerticle.class);
  private static final String RANKS_MAP = "depot.directory.ranks";
  private static final String RANK_COUNTER = "depot.directory.rank-counter";

  private final DepotConfig config;
  private ServiceDiscovery discovery;
  private AsyncMap<String, Integer> ranks;
  /** Liveness is kept in memory: heartbeats every second would churn the cluster-wide record map. */
  private final Map<String, Liveness> liveness = new HashMap<>();
  /**
   * This directory's copy of the records. Reads, heartbeats and expiry use it, so a node that vanishes
   * behind a cut link is DOWN after the expiry period even while Hazelcast still waits for that member
   * (a cluster-map read can block until it is declared gone). Writes go through to Service Discovery.
   */
  private final Map<String, Record> mirror = new java.util.TreeMap<>();
  private long mirrorTimer;
  private long expiryTimer = -1;
  /** The election group of the directories ({@code depot.election.directory}). */
  public static final String ELECTION_GROUP = "directory";
  private final String nodeId;
  private final IntSupplier rank;
  private Election election;
  /** The directory addresses, consumed only while this directory leads. */
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();

  private static final class Liveness {
    long lastBeat;
    JsonObject stats = new JsonObject();
  }

  public DirectoryVerticle(DepotConfig config, String nodeId, IntSupplier rank) {
    this.config = config;
    this.nodeId = nodeId;
    this.rank = rank;
  }

  /**
   * Several directories may run; they elect one (rank-based) that answers the directory addresses. The
   * others keep their copy of the records fresh from Service Discovery's cluster-wide map, ready to lead.
   */
  @Override
  public Future<?> start() {
    discovery = ServiceDiscovery.create(vertx);
    mirrorTimer = vertx.setPeriodic(5_000, id -> refreshMirror(false));
    election = new Election(vertx, ELECTION_GROUP, nodeId, rank, new Election.Candidate() {
      @Override
      public Future<Long> takeOver(long term) {
        return lead().map(term);
      }

      @Override
      public Future<Void> stepDown() {
        return standBy();
      }

      @Override
      public boolean inSync() {
        return true; // the records live in the cluster-wide map: every directory has them
      }

      @Override
      public long progress() {
        return mirror.size();
      }
    }, config.heartbeatIntervalMs(), config.nodeExpiryMs());
    return vertx.sharedData().<String, Integer>getAsyncMap(RANKS_MAP)
        .onSuccess(map -> ranks = map)
        .compose(map -> refreshMirror(false))
        .compose(v -> election.start());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(mirrorTimer);
    return election.stop().eventually(() -> {
      discovery.close();
      return Future.succeededFuture();
    });
  }

  private Future<Void> lead() {
    // The map may be slow to answer while Hazelcast still waits for a dead member: the copy at hand will do.
    return refreshMirror(true).timeout(2, TimeUnit.SECONDS).recover(err -> Future.succeededFuture()).compose(v -> {
      // Every node gets one expiry period to beat to this directory before it can be declared DOWN.
      liveness.clear();
      consumers.add(consume(Addresses.DIRECTORY_REGISTER, this::register));
      consumers.add(consume(Addresses.DIRECTORY_LOOKUP, this::lookup));
      consumers.add(consume(Addresses.DIRECTORY_UNREGISTER, this::unregister));
      consumers.add(consume(Addresses.DIRECTORY_HEARTBEAT, this::heartbeat));
      consumers.add(consume(Addresses.DIRECTORY_NODES, this::nodes));
      // Checked ten times per expiry period: a silent node is DOWN at most 10% after its deadline.
      long period = Math.max(100, config.nodeExpiryMs() / 10);
      expiryTimer = vertx.setPeriodic(period, id -> expireSilentNodes());
      return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).<Void>mapEmpty();
    }).onSuccess(v -> log.info("directory {} leads with {} records", nodeId, mirror.size()));
  }

  private Future<Void> standBy() {
    vertx.cancelTimer(expiryTimer);
    List<MessageConsumer<JsonObject>> leaving = List.copyOf(consumers);
    consumers.clear();
    return Future.join(leaving.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
  }

  private MessageConsumer<JsonObject> consume(String address, Function<JsonObject, Future<JsonObject>> handler) {
    return vertx.eventBus().consumer(address, (Message<JsonObject> msg) -> {
      Future<JsonObject> result;
      try {
        if (!(msg.body() instanceof JsonObject)) {
          throw DepotException.badRequest("expected a JSON object");
        }
        result = handler.apply(msg.body());
      } catch (ClassCastException e) {
        result = Future.failedFuture(DepotException.badRequest("expected a JSON object"));
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onSuccess(msg::reply).onFailure(err -> DepotException.from(err).replyTo(msg));
    });
  }

  private static String requireName(JsonObject body) {
    Object name = body.getValue("name");
    if (!(name instanceof String s) || s.isBlank() || s.length() > 255) {
      throw DepotException.badRequest("'name' must be a non-empty string of at most 255 characters");
    }
    return s;
  }

  /** A field that, when present, must have the given type: a malformed message is refused before it changes anything. */
  private static void requireType(JsonObject body, String field, Class<?> type, String what) {
    Object value = body.getValue(field);
    if (value != null && !type.isInstance(value)) {
      throw DepotException.badRequest("'" + field + "' must be " + what);
    }
  }

  private Future<Record> findRecord(String name) {
    return Future.succeededFuture(mirror.get(name));
  }

  /**
   * Picks up records this directory has not seen (published before it started, or by another directory);
   * a directory about to lead, or standing by, takes the map's version of every record.
   */
  private Future<Void> refreshMirror(boolean taking) {
    boolean replace = taking || consumers.isEmpty();
    return discovery.getRecords(r -> RECORD_TYPE.equals(r.getType()), true)
        .map(records -> {
          if (replace) {
            mirror.keySet().retainAll(records.stream().map(Record::getName).toList());
          }
          records.forEach(r -> {
            if (replace) {
              mirror.put(r.getName(), r);
            } else {
              mirror.putIfAbsent(r.getName(), r);
            }
          });
          return (Void) null;
        })
        .recover(err -> {
          log.debug("could not read the records: {}", err.getMessage());
          return Future.succeededFuture();
        });
  }

  /** Register: refused while another live process holds the name; a restarted node takes its name back. */
  private Future<JsonObject> register(JsonObject body) {
    String name = requireName(body);
    requireType(body, "rank", Integer.class, "a whole number");
    requireType(body, "roles", JsonArray.class, "an array of role names");
    requireType(body, "endpoints", JsonObject.class, "an object of endpoint URLs");
    requireType(body, "host", String.class, "a string");
    requireType(body, "stats", JsonObject.class, "an object");
    String instance = body.getString("instance", "");
    return ClusterLocks.acquire(vertx, "depot.directory.name." + name, 10_000)
        .compose(lock -> doRegister(name, instance, body).andThen(ar -> lock.release()));
  }

  private Future<JsonObject> doRegister(String name, String instance, JsonObject body) {
    return findRecord(name).compose(existing -> {
      if (existing != null) {
        String holder = existing.getMetadata().getString("instance", "");
        boolean sameProcess = !instance.isEmpty() && instance.equals(holder);
        if (!sameProcess && isAlive(name, existing)) {
          return Future.failedFuture(new DepotException(ErrorCode.DUPLICATE_NAME,
              "name '" + name + "' is already registered by a live node"));
        }
      }
      return assignRank(name, body.getInteger("rank", 0)).compose(rank -> {
        Record record = existing != null ? existing : new Record().setName(name).setType(RECORD_TYPE);
        record.setStatus(Status.UP);
        record.setLocation(new JsonObject()
            .put("host", body.getString("host", ""))
            .put("endpoints", body.getJsonObject("endpoints", new JsonObject())));
        record.setMetadata(new JsonObject()
            .put("instance", instance)
            .put("rank", rank)
            .put("roles", body.getJsonArray("roles", new JsonArray()))
            .put("registeredAt", Instant.now().toString()));
        Future<Record> saved = existing != null ? discovery.update(record) : discovery.publish(record);
        return saved.map(r -> {
          mirror.put(name, r);
          Liveness l = liveness.computeIfAbsent(name, n -> new Liveness());
          l.lastBeat = System.currentTimeMillis();
          l.stats = body.getJsonObject("stats", l.stats);
          log.info("registered {} (rank {}, roles {})", name, rank, r.getMetadata().getJsonArray("roles"));
          vertx.eventBus().publish(Addresses.DIRECTORY_EVENTS,
              new JsonObject().put("type", "node.up").put("node", toNodeJson(r)));
          return new JsonObject().put("name", name).put("rank", rank).put("registration", r.getRegistration());
        });
      });
    });
  }

  private boolean isAlive(String name, Record record) {
    if (record.getStatus() != Status.UP) {
      return false;
    }
    Liveness l = liveness.get(name);
    // A record we have never heard beat (e.g. this directory just started) gets one expiry period of grace.
    if (l == null) {
      l = new Liveness();
      l.lastBeat = System.currentTimeMillis();
      liveness.put(name, l);
    }
    return System.currentTimeMillis() - l.lastBeat < config.nodeExpiryMs();
  }

  /**
   * Ranks are assigned once per name, cluster-wide; a node may claim the rank it kept on disk. One lock
   * serializes assignments, so a claim and a fresh assignment never hand out the same number.
   */
  private Future<Integer> assignRank(String name, int claimed) {
    return ClusterLocks.acquire(vertx, "depot.directory.rank-lock", 10_000)
        .compose(lock -> assignRankLocked(name, claimed).andThen(ar -> lock.release()));
  }

  private Future<Integer> assignRankLocked(String name, int claimed) {
    return ranks.entries().compose(all -> {
      Integer known = all.get(name);
      if (known != null) {
        return Future.succeededFuture(known);
      }
      boolean claimFree = claimed > 0 && all.entrySet().stream()
          .noneMatch(e -> e.getValue() == claimed && !e.getKey().equals(name));
      Future<Integer> rank = claimFree ? raiseCounterTo(claimed).map(claimed) : nextRank(all);
      return rank.compose(r -> ranks.put(name, r).map(r));
    });
  }

  private Future<Integer> nextRank(Map<String, Integer> all) {
    int max = all.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    return raiseCounterTo(max).compose(v -> vertx.sharedData().getCounter(RANK_COUNTER))
        .compose(c -> c.incrementAndGet()).map(Long::intValue);
  }

  private Future<Void> raiseCounterTo(long floor) {
    return vertx.sharedData().getCounter(RANK_COUNTER).compose(counter -> counter.get().compose(current ->
        current >= floor ? Future.succeededFuture()
            : counter.compareAndSet(current, floor).compose(ok -> ok ? Future.succeededFuture() : raiseCounterTo(floor))));
  }

  private Future<JsonObject> lookup(JsonObject body) {
    String name = requireName(body);
    return findRecord(name).compose(r -> r == null
        ? Future.failedFuture(DepotException.notFound("no registration named '" + name + "'"))
        : Future.succeededFuture(toNodeJson(r)));
  }

  private Future<JsonObject> unregister(JsonObject body) {
    String name = requireName(body);
    return findRecord(name).compose(r -> {
      if (r == null) {
        return Future.failedFuture(DepotException.notFound("no registration named '" + name + "'"));
      }
      return discovery.unpublish(r.getRegistration()).map(v -> {
        mirror.remove(name);
        liveness.remove(name);
        log.info("unregistered {}", name);
        vertx.eventBus().publish(Addresses.DIRECTORY_EVENTS,
            new JsonObject().put("type", "node.unregistered").put("node", new JsonObject().put("id", name)));
        return new JsonObject().put("name", name);
      });
    });
  }

  /** A beat from an unknown name (or an old process) is refused so the sender re-registers. */
  private Future<JsonObject> heartbeat(JsonObject body) {
    String name = requireName(body);
    requireType(body, "stats", JsonObject.class, "an object");
    String instance = body.getString("instance", "");
    return findRecord(name).compose(r -> {
      if (r == null || !instance.equals(r.getMetadata().getString("instance", ""))) {
        return Future.failedFuture(DepotException.notFound("not registered: '" + name + "'"));
      }
      Liveness l = liveness.computeIfAbsent(name, n -> new Liveness());
      l.lastBeat = System.currentTimeMillis();
      l.stats = body.getJsonObject("stats", new JsonObject());
      if (r.getStatus() != Status.UP) {
        r.setStatus(Status.UP);
        log.info("{} is beating again: UP", name);
        vertx.eventBus().publish(Addresses.DIRECTORY_EVENTS,
            new JsonObject().put("type", "node.up").put("node", toNodeJson(r)));
        discovery.update(new Record(r)).onFailure(err -> log.debug("record of {} not updated yet: {}", name, err.getMessage()));
      }
      // The directory's clock in the reply lets the node estimate its offset (Cristian's algorithm).
      return Future.succeededFuture(new JsonObject().put("status", "UP").put("time", System.currentTimeMillis()));
    });
  }

  private Future<JsonObject> nodes(JsonObject body) {
    JsonArray nodes = new JsonArray();
    mirror.values().forEach(r -> nodes.add(toNodeJson(r)));
    return Future.succeededFuture(new JsonObject().put("nodes", nodes));
  }

  /** Marks silent nodes DOWN at once (in the mirror, with the event); the cluster-wide record follows. */
  private void expireSilentNodes() {
    long now = System.currentTimeMillis();
    for (Record r : mirror.values()) {
      if (r.getStatus() != Status.UP) {
        continue;
      }
      Liveness l = liveness.computeIfAbsent(r.getName(), n -> {
        Liveness fresh = new Liveness();
        fresh.lastBeat = now;
        return fresh;
      });
      if (now - l.lastBeat >= config.nodeExpiryMs()) {
        r.setStatus(Status.DOWN);
        log.warn("{} missed heartbeats for {} ms: DOWN", r.getName(), now - l.lastBeat);
        vertx.eventBus().publish(Addresses.DIRECTORY_EVENTS,
            new JsonObject().put("type", "node.down").put("node", toNodeJson(r)));
        discovery.update(new Record(r)).onFailure(err -> log.debug("record of {} not updated yet: {}", r.getName(), err.getMessage()));
      }
    }
  }

  private JsonObject toNodeJson(Record r) {
    JsonObject meta = r.getMetadata();
    JsonObject location = r.getLocation();
    Liveness l = liveness.get(r.getName());
    JsonObject stats = l != null ? l.stats : new JsonObject();
    return new JsonObject()
        .put("id", r.getName())
        .put("roles", meta.getJsonArray("roles", new JsonArray()))
        .put("host", location.getString("host", ""))
        .put("endpoints", location.getJsonObject("endpoints", new JsonObject()))
        .put("rank", meta.getInteger("rank", 0))
        .put("status", r.getStatus() == Status.UP ? NodeStatus.UP.name() : NodeStatus.DOWN.name())
        .put("lastHeartbeat", l != null ? Instant.ofEpochMilli(l.lastBeat).toString() : null)
        .put("diskUsed", stats.getLong("diskUsed", 0L))
        .put("diskFree", stats.getLong("diskFree", 0L))
        .put("replicas", stats.getLong("replicas", 0L))
        .put("heapFull", Boolean.TRUE.equals(stats.getValue("heapFull")))
        .put("clockOffsetMs", stats.getLong("clockOffsetMs"))
        .put("clockCorrectionMs", stats.getLong("clockCorrectionMs"));
  }
}
