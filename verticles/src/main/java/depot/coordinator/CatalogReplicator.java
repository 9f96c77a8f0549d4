package depot.coordinator;

import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The leading coordinator's side of catalog replication. Every journaled operation is shipped, in order and
 * in batches, to each follower (standby coordinators and storage nodes keep a copy of the catalog). An
 * operation counts as replicated once one in-sync follower has it on disk, so a single lost disk, the
 * leader's included, never loses an acknowledged change. A follower joins with a snapshot of the applied
 * state, fetched in pages, followed by every operation after it.
 *
 * <p>Only the first {@code eagerCopies} in-step followers (in the order they joined; any follower still catching
 * up, too) are sent each operation at once. The others, observers as ZooKeeper calls them, take what
 * accumulated every {@link #OBSERVER_FLUSH_MS}: one message and one fsync for many operations. Sending every
 * operation to every copy at once cost a third of a small deposit's CPU on the dev cluster (three copies),
 * and bought nothing: one durable copy acknowledges, and a new leader catches up from the most advanced copy.
 *
 * <p>Until a follower is first in step, the leader's own fsync acknowledges (a cluster with no copies yet
 * must still work), though a new leader first gives the previous leader's followers a few intervals to join. Once one has been, a leader that loses every follower (cut off from the cluster, say)
 * no longer acknowledges on its own: such an operation waits for a copy to catch up and fails as
 * unavailable after {@link #ORPHAN_WAIT_MS} (10 s), since a leader elected on the other side would not have it.
 */
final class CatalogReplicator {
  private static final Logger log = LoggerFactory.getLogger(CatalogReplicator.class);
  static final int PAGE_OPS = 2000;
  private static final long SEND_TIMEOUT_MS = 5000;
  private static final long SESSION_TTL_MS = 120_000;
  static final long ORPHAN_WAIT_MS = 10_000;
  /** How stale an observer's copy may get (plus one round trip) while operations keep coming. */
  static final long OBSERVER_FLUSH_MS = 100;
  /**
   * Batches an eager copy may have unacknowledged. Its journal syncs them in order, so a batch sent while the
   * previous one is still being synced waits there for one fsync, not here for a whole round trip: on the dev
   * cluster (8 clients, 4 KiB) a deposit's wait for its catalog copy went from 4.6–5.4 ms to 3.5–3.7 ms.
   */
  static final int EAGER_BATCHES_IN_FLIGHT = 4;

  private final Vertx vertx;
  private final long orphanWaitMs;
  private final int eagerCopies;
  private long observerTimer = -1;
  private final Catalog catalog;
  private final String leaderId;
  private final long term;
  /** In the order they joined: the first in-step ones are the eager copies. */
  private final Map<String, Follower> followers = new LinkedHashMap<>();
  private final Map<String, Snapshot> snapshots = new HashMap<>();
  /** Operations shipped but not yet applied here: a follower joining now needs them after its snapshot. */
  private final ArrayDeque<JsonObject> unapplied = new ArrayDeque<>();
  /** Operations waiting for a follower's acknowledgement, by Lamport stamp. */
  private final TreeMap<Long, Waiting> waiting = new TreeMap<>();
  private long sweeper = -1;
  private boolean stopped;
  /** Whether a follower has been in step during this term (from then on, no acknowledgement without one). */
  private boolean hadCopy;
  /**
   * Until then (just after taking the lead) an operation waits for a follower even while none is in sync:
   * the followers of the previous leader join within a few intervals, and an operation acknowledged on the
   * new leader's disk alone would be lost if it died at once.
   */
  private final long aloneFrom;

  private static final class Follower {
    final String nodeId;
    final String session;
    long lastSent;
    long acked;
    boolean inSync;
    /** Batches sent and not yet answered. */
    int inFlight;
    /**
     * The follower has asked again with this session, so it knows it: operations go out only from then on.
     * Sent earlier, they would overtake the reply that tells the follower its session, be refused, and
     * cost the follower its session and a new snapshot (again and again while deposits keep coming).
     */
    boolean confirmed;
    List<JsonObject> queue = new ArrayList<>();

    Follower(String nodeId, String session, long lastSent) {
      this.nodeId = nodeId;
      this.session = session;
      this.lastSent = lastSent;
    }
  }

  private record Snapshot(List<JsonObject> ops, long expiresAt) {}

  private record Waiting(Promise<Void> promise, long since) {}

  /**
   * @param followerGraceMs how long a new leader waits for a first follower before it acknowledges alone
   * @param eagerCopies in-step followers sent every operation at once (at least 1)
   */
  CatalogReplicator(Vertx vertx, Catalog catalog, String leaderId, long term, long followerGraceMs, int eagerCopies) {
    this(vertx, catalog, leaderId, term, followerGraceMs, eagerCopies, ORPHAN_WAIT_MS);
  }

  CatalogReplicator(Vertx vertx, Catalog catalog, String leaderId, long term, long followerGraceMs, int eagerCopies,
                    long orphanWaitMs) {
    this.orphanWaitMs = orphanWaitMs;
    this.eagerCopies = Math.max(1, eagerCopies);
    this.vertx = vertx;
    this.catalog = catalog;
    this.leaderId = leaderId;
    this.term = term;
    this.aloneFrom = System.currentTimeMillis() + followerGraceMs;
    vertx.setTimer(Math.max(1, followerGraceMs), id -> release());
  }

  /**
   * Ships stamped operations (in Lamport order), which leave for each eager copy in one message; each
   * completes when a follower holds it durably (on the leader's disk alone only while no follower has been in
   * step in this term, once the grace period of a new leader is over).
   */
  List<Future<Void>> replicateAll(List<JsonObject> ops) {
    if (stopped) {
      Future<Void> refused = Future.failedFuture(new DepotException(ErrorCode.NOT_LEADER, "this coordinator no longer leads"));
      return ops.stream().map(op -> refused).toList();
    }
    unapplied.addAll(ops);
    // A copy: a send that fails at once (no such consumer any more) drops its follower from the map.
    for (Follower f : new ArrayList<>(followers.values())) {
      f.queue.addAll(ops);
      if (eager(f)) {
        flush(f);
      } else {
        flushObserversSoon();
      }
    }
    boolean alone = followers.values().stream().noneMatch(f -> f.inSync) && mayAcknowledgeAlone();
    List<Future<Void>> copied = new ArrayList<>(ops.size());
    for (JsonObject op : ops) {
      if (alone) {
        copied.add(Future.succeededFuture());
        continue;
      }
      Waiting w = new Waiting(Promise.promise(), System.currentTimeMillis());
      waiting.put(op.getLong("lamport"), w);
      copied.add(w.promise().future());
    }
    if (!alone && sweeper < 0) {
      sweeper = vertx.setPeriodic(Math.max(10, orphanWaitMs / 10), t -> failOrphans());
    }
    return copied;
  }

  /** The operation is now applied to the leader's catalog: it is part of any later snapshot. */
  void applied(long lamport) {
    while (!unapplied.isEmpty() && unapplied.peekFirst().getLong("lamport") <= lamport) {
      unapplied.pollFirst();
    }
  }

  long inSyncFollowers() {
    return followers.values().stream().filter(f -> f.inSync).count();
  }

  JsonObject describe() {
    JsonArray out = new JsonArray();
    followers.values().forEach(f -> out.add(new JsonObject().put("nodeId", f.nodeId).put("inSync", f.inSync)
        .put("acked", f.acked).put("queued", f.queue.size())));
    return new JsonObject().put("followers", out);
  }

  /**
   * A follower's periodic request: {@code {nodeId, session, lamport}}. A follower already being fed in this
   * session hears whether it is in sync; any other starts a new session with a snapshot to fetch.
   */
  JsonObject follow(JsonObject req) {
    String nodeId = req.getString("nodeId");
    if (nodeId == null || nodeId.isBlank()) {
      throw DepotException.badRequest("'nodeId' is required");
    }
    JsonObject reply = new JsonObject().put("leader", leaderId).put("term", term);
    Follower known = followers.get(nodeId);
    if (known != null && known.session.equals(req.getString("session"))) {
      if (!known.confirmed) {
        known.confirmed = true;
        flush(known);
      }
      if (!known.inSync && known.inFlight == 0 && known.queue.isEmpty() && req.getLong("lamport", -1L) == known.lastSent) {
        markInSync(known, known.lastSent);
      }
      return reply.put("session", known.session).put("inSync", known.inSync);
    }
    String session = UUID.randomUUID().toString();
    List<JsonObject> ops = catalog.toOps();
    long at = catalog.appliedLamport();
    Follower f = new Follower(nodeId, session, at);
    f.queue.addAll(unapplied);
    followers.put(nodeId, f);
    snapshots.put(session, new Snapshot(ops, System.currentTimeMillis() + SESSION_TTL_MS));
    snapshots.values().removeIf(s -> s.expiresAt() < System.currentTimeMillis());
    log.info("{} follows the catalog from a snapshot of {} operations at lamport {}", nodeId, ops.size(), at);
    return reply.put("session", session).put("inSync", false).put("snapshotLamport", at)
        .put("pages", (ops.size() + PAGE_OPS - 1) / PAGE_OPS);
  }

  JsonObject page(JsonObject req) {
    Snapshot s = snapshots.get(req.getString("session", ""));
    if (s == null) {
      throw DepotException.notFound("no such snapshot session (expired?)");
    }
    return pageOf(s.ops(), req.getInteger("page", 0));
  }

  static JsonObject pageOf(List<JsonObject> ops, int page) {
    int from = page * PAGE_OPS;
    if (page < 0 || from > ops.size()) {
      throw DepotException.badRequest("no page " + page);
    }
    return new JsonObject().put("ops", new JsonArray(new ArrayList<>(ops.subList(from, Math.min(ops.size(), from + PAGE_OPS)))));
  }

  /** Stops shipping; operations still waiting fail (the caller hears a clear error, the next leader decides). */
  void stop() {
    stopped = true;
    DepotException gone = new DepotException(ErrorCode.NOT_LEADER, "the coordinator lost the lead; retry");
    waiting.values().forEach(w -> w.promise().tryFail(gone));
    waiting.clear();
    if (sweeper >= 0) {
      vertx.cancelTimer(sweeper);
    }
    if (observerTimer >= 0) {
      vertx.cancelTimer(observerTimer);
    }
    followers.clear();
    snapshots.clear();
  }

  /** Whether {@code f} is sent each operation at once: still catching up, or one of the first in-step copies. */
  private boolean eager(Follower f) {
    if (!f.inSync) {
      return true;
    }
    int inStepAhead = 0;
    for (Follower g : followers.values()) {
      if (g == f) {
        return inStepAhead < eagerCopies;
      }
      if (g.inSync) {
        inStepAhead++;
      }
    }
    return false;
  }

  private void flushObserversSoon() {
    if (observerTimer < 0 && !stopped) {
      observerTimer = vertx.setTimer(OBSERVER_FLUSH_MS, id -> {
        observerTimer = -1;
        new ArrayList<>(followers.values()).forEach(this::flush);
      });
    }
  }

  private void flush(Follower f) {
    if (f.inFlight >= (eager(f) ? EAGER_BATCHES_IN_FLIGHT : 1) || !f.confirmed || f.queue.isEmpty() || stopped) {
      return;
    }
    List<JsonObject> batch = f.queue;
    f.queue = new ArrayList<>();
    f.inFlight++;
    long prev = f.lastSent;
    f.lastSent = batch.get(batch.size() - 1).getLong("lamport");
    JsonObject msg = new JsonObject().put("action", "append").put("term", term).put("leader", leaderId)
        .put("session", f.session).put("prev", prev).put("ops", new JsonArray(batch));
    vertx.eventBus().<JsonObject>request(Addresses.catalogReplica(f.nodeId), msg,
            new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS))
        .onComplete(ar -> {
          f.inFlight--;
          if (followers.get(f.nodeId) != f) {
            return; // replaced by a newer session meanwhile
          }
          if (ar.failed()) {
            log.warn("catalog follower {} dropped: {}", f.nodeId, ar.cause().getMessage());
            followers.remove(f.nodeId);
            release();
            return;
          }
          Long durable = ar.result().body().getLong("lamport");
          if (durable != null) {
            markInSync(f, durable);
          }
          if (eager(f)) {
            flush(f);
          } else if (!f.queue.isEmpty()) {
            flushObserversSoon();
          }
        });
  }

  private void markInSync(Follower f, long durable) {
    if (!f.inSync) {
      log.info("catalog follower {} is in sync at lamport {}", f.nodeId, durable);
    }
    f.inSync = true;
    hadCopy = true;
    f.acked = Math.max(f.acked, durable);
    release();
  }

  private boolean mayAcknowledgeAlone() {
    return !hadCopy && System.currentTimeMillis() >= aloneFrom;
  }

  /**
   * Completes every waiting operation some in-sync follower holds (all of them if none is in sync and the
   * leader may still acknowledge alone).
   */
  private void release() {
    if (stopped) {
      return;
    }
    long best = -1;
    boolean any = false;
    for (Follower f : followers.values()) {
      if (f.inSync) {
        any = true;
        best = Math.max(best, f.acked);
      }
    }
    Iterator<Map.Entry<Long, Waiting>> it = waiting.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Waiting> e = it.next();
      if (any ? e.getKey() > best : !mayAcknowledgeAlone()) {
        break;
      }
      e.getValue().promise().tryComplete();
      it.remove();
    }
  }

  /** An operation no copy has taken within the orphan wait is not acknowledged: its caller hears so. */
  private void failOrphans() {
    long now = System.currentTimeMillis();
    // Waiting in Lamport order, which is the order they came in: the first young one ends the sweep.
    Iterator<Waiting> it = waiting.values().iterator();
    while (it.hasNext()) {
      Waiting w = it.next();
      if (now - w.since() < orphanWaitMs) {
        break;
      }
      w.promise().tryFail(new DepotException(ErrorCode.UNAVAILABLE,
          "no copy of the catalog took this change in time; it is not acknowledged, retry"));
      it.remove();
    }
    if (waiting.isEmpty()) {
      vertx.cancelTimer(sweeper);
      sweeper = -1;
    }
  }
}
