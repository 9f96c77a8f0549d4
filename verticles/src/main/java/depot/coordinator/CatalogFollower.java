package depot.coordinator;

import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A copy of the catalog kept in step with the leading coordinator, on standby coordinators and on storage
 * nodes. It asks to follow every interval; a new session starts with the leader's snapshot (fetched in
 * pages, with the operations shipped meanwhile held back), then takes every journaled operation in order,
 * acknowledging each batch once it is on this node's disk. It also answers a new leader that rebuilds the
 * catalog from the most advanced copy (after losing its own disk, or when it was behind).
 */
public final class CatalogFollower {
  private static final Logger log = LoggerFactory.getLogger(CatalogFollower.class);
  private static final long FOLLOW_TIMEOUT_MS = 3000;
  /**
   * A page is served from the leader's memory in milliseconds; a request the leader dropped while handing
   * over must not keep this copy from following the next leader for long.
   */
  private static final long PAGE_TIMEOUT_MS = 5000;

  /** What this node does with the operations besides journaling them. */
  public interface Replica {
    /** Starts over from a snapshot. */
    void reset(List<JsonObject> ops);

    void apply(JsonObject op);

    /** The state as operations (for a new leader rebuilding from this copy). */
    Future<List<JsonObject>> snapshot();

    /** A copy that is its journal only (a storage node's): nothing held in memory, snapshots read from disk. */
    static Replica journalOnly(Vertx vertx, CatalogJournal journal) {
      return new Replica() {
        @Override
        public void reset(List<JsonObject> ops) {
          // nothing held in memory
        }

        @Override
        public void apply(JsonObject op) {
          // nothing held in memory
        }

        @Override
        public Future<List<JsonObject>> snapshot() {
          return vertx.executeBlocking(() -> journal.load().toOps());
        }
      };
    }
  }

  private final Vertx vertx;
  private final String nodeId;
  private final CatalogJournal journal;
  private final Replica replica;
  private final long intervalMs;
  private MessageConsumer<Object> consumer;
  private long timer = -1;
  private boolean paused;
  private boolean asking;
  private String session;
  private boolean inSync;
  private boolean catchingUp;
  private final ArrayDeque<JsonObject> held = new ArrayDeque<>();
  private long lamport;
  private long term;
  private long leaderTerm;
  private List<JsonObject> served;

  public CatalogFollower(Vertx vertx, String nodeId, CatalogJournal journal, Replica replica, long intervalMs,
                         long lamport, long term) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.journal = journal;
    this.replica = replica;
    this.intervalMs = intervalMs;
    this.lamport = lamport;
    this.term = term;
  }

  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(Addresses.catalogReplica(nodeId), this::onMessage);
    timer = vertx.setPeriodic(intervalMs, id -> askToFollow());
    return consumer.completion();
  }

  public Future<Void> stop() {
    vertx.cancelTimer(timer);
    return consumer.unregister();
  }

  /** While this node leads it follows nobody. */
  public void pause() {
    paused = true;
    inSync = false;
    session = null;
    catchingUp = false;
    held.clear();
  }

  public void resume() {
    paused = false;
  }

  public boolean inSync() {
    return inSync && !paused;
  }

  public long lamport() {
    return lamport;
  }

  /** The copy has been replaced (a leader rebuilt from another copy): its position moves with it. */
  public void rebased(long newLamport, long newTerm) {
    lamport = newLamport;
    term = newTerm;
  }

  private void askToFollow() {
    if (paused || asking || catchingUp) {
      return;
    }
    asking = true;
    JsonObject req = new JsonObject().put("nodeId", nodeId).put("session", session).put("lamport", lamport)
        .put("term", term);
    vertx.eventBus().<JsonObject>request(Addresses.CATALOG_FOLLOW, req, new DeliveryOptions().setSendTimeout(FOLLOW_TIMEOUT_MS))
        .onComplete(ar -> {
          asking = false;
          if (ar.failed() || paused) {
            inSync = false;
            return;
          }
          JsonObject reply = ar.result().body();
          leaderTerm = Math.max(leaderTerm, reply.getLong("term", 0L));
          String offered = reply.getString("session");
          if (offered == null) {
            inSync = false; // the leader is behind this copy and rebuilds from it first
          } else if (offered.equals(session)) {
            inSync = reply.getBoolean("inSync", false);
          } else {
            session = offered;
            inSync = false;
            catchUp(offered, reply.getInteger("pages", 0), reply.getString("leader"));
          }
        });
  }

  private void catchUp(String newSession, int pages, String leader) {
    catchingUp = true;
    held.clear();
    fetch(newSession, 0, pages, new ArrayList<>())
        .compose(ops -> journal.replaceWith(ops).map(ops))
        .onSuccess(ops -> {
          replica.reset(ops);
          lamport = 0;
          term = 0;
          ops.forEach(this::advance);
          log.info("{} copied the catalog from {}: {} operations up to lamport {}", nodeId, leader, ops.size(), lamport);
        })
        .compose(v -> drainHeld(newSession))
        .onComplete(ar -> {
          catchingUp = false;
          if (ar.failed()) {
            log.warn("{} could not copy the catalog: {}", nodeId, ar.cause().getMessage());
            session = null;
          }
        });
  }

  private Future<List<JsonObject>> fetch(String s, int page, int pages, List<JsonObject> into) {
    if (page >= pages) {
      return Future.succeededFuture(into);
    }
    return vertx.eventBus().<JsonObject>request(Addresses.CATALOG_SNAPSHOT, new JsonObject().put("session", s).put("page", page),
            new DeliveryOptions().setSendTimeout(PAGE_TIMEOUT_MS))
        .compose(reply -> {
          reply.body().getJsonArray("ops").forEach(o -> into.add((JsonObject) o));
          return fetch(s, page + 1, pages, into);
        });
  }

  /** Applies the batches held back while the snapshot was fetched, then takes batches directly. */
  private Future<Void> drainHeld(String s) {
    JsonObject next = held.pollFirst();
    if (next == null || !s.equals(session)) {
      return Future.succeededFuture();
    }
    return appendBatch(next).compose(upTo -> drainHeld(s));
  }

  private void advance(JsonObject op) {
    lamport = Math.max(lamport, op.getLong("lamport", 0L));
    term = Math.max(term, op.getLong("term", 0L));
  }

  /** Completes with the Lamport stamp up to which this copy is now durable. */
  private Future<Long> appendBatch(JsonObject batch) {
    long prev = batch.getLong("prev", -1L);
    if (prev != lamport) {
      session = null;
      inSync = false;
      return Future.failedFuture(new DepotException(ErrorCode.CONFLICT,
          "catalog gap: expected operations after " + lamport + ", got after " + prev));
    }
    List<JsonObject> ops = new ArrayList<>();
    batch.getJsonArray("ops", new JsonArray()).forEach(o -> ops.add((JsonObject) o));
    ops.forEach(this::advance);
    long upTo = lamport;
    // All at once, so one sync takes the batch (appended one by one, the first was often synced alone).
    List<Future<Void>> appended = journal.appendAll(ops);
    Future<Void> durable = appended.isEmpty() ? Future.succeededFuture() : appended.get(appended.size() - 1);
    // Up to this batch's last operation, not the copy's position when the sync ends: later batches may
    // have arrived meanwhile, and they are not on disk yet.
    return durable.onSuccess(v -> ops.forEach(replica::apply)).map(upTo);
  }

  private void onMessage(Message<Object> msg) {
    Future<JsonObject> result;
    try {
      if (!(msg.body() instanceof JsonObject body)) {
        throw DepotException.badRequest("expected a JSON object");
      }
      result = switch (body.getString("action", "")) {
        case "append" -> append(body);
        case "status" -> Future.succeededFuture(new JsonObject().put("nodeId", nodeId).put("lamport", lamport)
            .put("term", term).put("leaderTerm", leaderTerm));
        case "snapshot" -> snapshotPage(body.getInteger("page", 0));
        default -> throw DepotException.badRequest("unknown catalog replica action");
      };
    } catch (DepotException e) {
      result = Future.failedFuture(e);
    } catch (RuntimeException e) {
      result = Future.failedFuture(DepotException.badRequest("malformed catalog message: " + e.getMessage()));
    }
    result.onSuccess(msg::reply).onFailure(err -> DepotException.from(err).replyTo(msg));
  }

  private Future<JsonObject> append(JsonObject batch) {
    long batchTerm = batch.getLong("term", 0L);
    if (paused) {
      throw new DepotException(ErrorCode.CONFLICT, "this node leads the catalog itself");
    }
    if (batchTerm < leaderTerm) {
      throw new DepotException(ErrorCode.CONFLICT, "stale leader: term " + batchTerm + " < " + leaderTerm);
    }
    if (session == null || !session.equals(batch.getString("session"))) {
      throw new DepotException(ErrorCode.CONFLICT, "not following that session");
    }
    leaderTerm = batchTerm;
    if (catchingUp) {
      held.add(batch);
      return Future.succeededFuture(new JsonObject().put("held", true));
    }
    return appendBatch(batch).map(upTo -> new JsonObject().put("lamport", upTo));
  }

  private Future<JsonObject> snapshotPage(int page) {
    Future<List<JsonObject>> ops = page == 0 || served == null ? replica.snapshot() : Future.succeededFuture(served);
    return ops.map(all -> {
      served = all;
      return CatalogReplicator.pageOf(all, page).put("pages", (all.size() + CatalogReplicator.PAGE_OPS - 1) / CatalogReplicator.PAGE_OPS);
    });
  }
}
