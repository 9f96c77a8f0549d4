package depot.coordinator;

import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.testing.OnLoop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acknowledgement rule of catalog replication, on a real (local) event bus with a follower that answers
 * the leader's batches: no acknowledgement without a copy once a copy has been in step.
 */
@ExtendWith(VertxExtension.class)
class CatalogReplicatorTest {
  static final long ORPHAN_WAIT = 300;

  Vertx vertx;
  CatalogReplicator replicator;
  final List<Long> received = new CopyOnWriteArrayList<>();
  MessageConsumer<JsonObject> follower;

  @BeforeEach
  void setUp(Vertx vertx) throws Exception {
    this.vertx = vertx;
    onLoop(() -> {
      replicator = new CatalogReplicator(vertx, new Catalog(), "leader", 1, 0, 1, ORPHAN_WAIT);
      return Future.succeededFuture();
    });
  }

  <T> T onLoop(java.util.function.Supplier<Future<T>> action) throws Exception {
    return OnLoop.run(vertx, action);
  }

  /** One operation alone, as a commit that no other joined in its turn. */
  Future<Void> replicate(JsonObject op) {
    return replicator.replicateAll(List.of(op)).get(0);
  }

  static JsonObject op(long lamport) {
    return new JsonObject().put("type", "test").put("lamport", lamport).put("term", 1);
  }

  /** A follower on the event bus that keeps every batch and answers the last Lamport stamp it holds. */
  void startFollower() throws Exception {
    follower = startFollower("f1", received, new CopyOnWriteArrayList<>());
  }

  MessageConsumer<JsonObject> startFollower(String nodeId, List<Long> into, List<Integer> batches) throws Exception {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.catalogReplica(nodeId), msg -> {
      JsonArray ops = msg.body().getJsonArray("ops");
      long last = ops.getJsonObject(ops.size() - 1).getLong("lamport");
      ops.forEach(o -> into.add(((JsonObject) o).getLong("lamport")));
      batches.add(ops.size());
      msg.reply(new JsonObject().put("lamport", last));
    });
    onLoop(() -> consumer.completion());
    JsonObject first = onLoop(() -> Future.succeededFuture(replicator.follow(new JsonObject().put("nodeId", nodeId))));
    // Like a real follower: it asks again (with what it holds) until the leader counts it in step.
    JsonObject again = first;
    for (int i = 0; i < 50 && !again.getBoolean("inSync"); i++) {
      Thread.sleep(20);
      long holds = into.isEmpty() ? first.getLong("snapshotLamport") : into.get(into.size() - 1);
      again = onLoop(() -> Future.succeededFuture(replicator.follow(new JsonObject().put("nodeId", nodeId)
          .put("session", first.getString("session")).put("lamport", holds))));
    }
    assertTrue(again.getBoolean("inSync"), again.encode());
    return consumer;
  }

  @Test
  void theFirstCopyInStepTakesEachOperationAtOnceTheOthersTakeThemInBatches() throws Exception {
    startFollower();
    List<Long> observed = new CopyOnWriteArrayList<>();
    List<Integer> observerBatches = new CopyOnWriteArrayList<>();
    startFollower("f2", observed, observerBatches);
    observerBatches.clear();
    long started = System.nanoTime();
    for (long lamport = 1; lamport <= 20; lamport++) {
      long l = lamport;
      onLoop(() -> replicate(op(l)));
    }
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
    assertEquals(20, received.size(), "the eager copy took every operation");
    // Acknowledged by the eager copy: 20 in a row do not wait out the observers' interval each.
    assertTrue(elapsedMs < 20 * CatalogReplicator.OBSERVER_FLUSH_MS / 2, "took " + elapsedMs + " ms");
    long deadline = System.currentTimeMillis() + 5000;
    while (observed.size() < 20 && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(java.util.stream.LongStream.rangeClosed(1, 20).boxed().toList(), observed, "the observer has them all, in order");
    assertTrue(observerBatches.size() < 20, "the observer took them in fewer batches: " + observerBatches);
  }

  @Test
  void operationsCommittedTogetherReachTheEagerCopyInOneMessage() throws Exception {
    List<Long> held = new CopyOnWriteArrayList<>();
    List<Integer> batches = new CopyOnWriteArrayList<>();
    startFollower("f1", held, batches);
    batches.clear();
    onLoop(() -> Future.all(replicator.replicateAll(List.of(op(1), op(2), op(3)))));
    assertEquals(List.of(1L, 2L, 3L), held);
    assertEquals(List.of(3), batches, "one message for the three");
  }

  @Test
  void theEagerCopyIsSentNewBatchesBeforeItAnswersTheEarlierOnesUpToALimit() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
    List<io.vertx.core.eventbus.Message<JsonObject>> unanswered = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> slow = vertx.eventBus().consumer(Addresses.catalogReplica("f1"), msg -> {
      if (hold.get()) {
        unanswered.add(msg); // like a copy whose fsync has not finished yet
      } else {
        JsonArray ops = msg.body().getJsonArray("ops");
        msg.reply(new JsonObject().put("lamport", ops.getJsonObject(ops.size() - 1).getLong("lamport")));
      }
    });
    onLoop(() -> slow.completion());
    JsonObject first = onLoop(() -> Future.succeededFuture(replicator.follow(new JsonObject().put("nodeId", "f1"))));
    JsonObject again = first;
    for (int i = 0; i < 50 && !again.getBoolean("inSync"); i++) {
      Thread.sleep(20);
      again = onLoop(() -> Future.succeededFuture(replicator.follow(new JsonObject().put("nodeId", "f1")
          .put("session", first.getString("session")).put("lamport", first.getLong("snapshotLamport")))));
    }
    assertTrue(again.getBoolean("inSync"), again.encode());
    hold.set(true);

    int limit = CatalogReplicator.EAGER_BATCHES_IN_FLIGHT;
    List<Future<Void>> acks = onLoop(() -> {
      List<Future<Void>> all = new java.util.ArrayList<>();
      for (long lamport = 1; lamport <= limit + 2; lamport++) {
        all.add(replicate(op(lamport)));
      }
      return Future.succeededFuture(all);
    });
    long deadline = System.currentTimeMillis() + 5000;
    while (unanswered.size() < limit && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    Thread.sleep(100);
    assertEquals(limit, unanswered.size(), "each operation went out at once, up to the limit, none answered yet");
    assertTrue(acks.stream().noneMatch(Future::isComplete), "nothing acknowledged before the copy answers");

    // The copy answers in order; what waited meanwhile goes out as one batch.
    for (int i = 0; i < limit; i++) {
      io.vertx.core.eventbus.Message<JsonObject> msg = unanswered.get(i);
      msg.reply(new JsonObject().put("lamport", msg.body().getJsonArray("ops").getJsonObject(0).getLong("lamport")));
    }
    deadline = System.currentTimeMillis() + 5000;
    while (unanswered.size() < limit + 1 && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    JsonArray rest = unanswered.get(limit).body().getJsonArray("ops");
    assertEquals(List.of((long) limit + 1, (long) limit + 2),
        rest.stream().map(o -> ((JsonObject) o).getLong("lamport")).toList());
    // The rest goes out once the first answer frees a place; the other answers may still be on their way.
    deadline = System.currentTimeMillis() + 5000;
    while (!acks.subList(0, limit).stream().allMatch(Future::isComplete) && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(acks.subList(0, limit).stream().allMatch(Future::succeeded), "the answered ones are acknowledged");
    assertFalse(acks.get(limit).isComplete(), "the last batch is not acknowledged before its answer");
    unanswered.get(limit).reply(new JsonObject().put("lamport", (long) limit + 2));
    deadline = System.currentTimeMillis() + 5000;
    while (!acks.get(limit + 1).isComplete() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(acks.stream().allMatch(Future::succeeded));
  }

  @Test
  void whenTheEagerCopyIsGoneAnObserverAcknowledges() throws Exception {
    startFollower();
    List<Long> observed = new CopyOnWriteArrayList<>();
    startFollower("f2", observed, new CopyOnWriteArrayList<>());
    onLoop(() -> replicate(op(1)));
    onLoop(() -> follower.unregister());
    onLoop(() -> replicate(op(2)));
    onLoop(() -> replicate(op(3)));
    assertTrue(observed.containsAll(List.of(2L, 3L)), "acknowledged by the remaining copy: " + observed);
    assertFalse(received.contains(3L));
  }

  @Test
  void withoutAnyCopyYetTheLeadersOwnDiskAcknowledges() throws Exception {
    onLoop(() -> replicate(op(1)));
  }

  @Test
  void anOperationIsAcknowledgedOnceTheFollowerHoldsIt() throws Exception {
    startFollower();
    onLoop(() -> replicate(op(1)));
    assertEquals(List.of(1L), received);
  }

  @Test
  void aLeaderThatLostEveryCopyDoesNotAcknowledgeOnItsOwn() throws Exception {
    startFollower();
    onLoop(() -> replicate(op(1)));
    onLoop(() -> follower.unregister());
    long started = System.currentTimeMillis();
    ExecutionException failed = assertThrows(ExecutionException.class, () -> onLoop(() -> replicate(op(2))));
    assertTrue(System.currentTimeMillis() - started >= ORPHAN_WAIT, "not before the orphan wait");
    DepotException cause = assertInstanceOf(DepotException.class, failed.getCause());
    assertEquals(ErrorCode.UNAVAILABLE, cause.code());
    assertFalse(received.contains(2L));
  }

  @Test
  void aFollowerThatComesBackCarriesTheWaitingOperation() throws Exception {
    startFollower();
    onLoop(() -> follower.unregister());
    // Shipped to nobody reachable: the follower is dropped and the operation waits for a copy.
    CompletableFuture<Void> pending = new CompletableFuture<>();
    vertx.runOnContext(v -> replicate(op(1)).onComplete(ar -> {
      if (ar.succeeded()) {
        pending.complete(null);
      } else {
        pending.completeExceptionally(ar.cause());
      }
    }));
    Thread.sleep(50);
    startFollower();
    pending.get(5, TimeUnit.SECONDS);
    assertTrue(received.contains(1L), "the rejoining follower got the waiting operation: " + received);
  }

  @Test
  void operationsReachANewFollowerOnlyOnceItHasAskedWithItsSession() throws Exception {
    List<JsonObject> appends = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.catalogReplica("f2"), msg -> {
      appends.add(msg.body());
      JsonArray ops = msg.body().getJsonArray("ops");
      msg.reply(new JsonObject().put("lamport", ops.getJsonObject(ops.size() - 1).getLong("lamport")));
    });
    onLoop(() -> replicate(op(1)));
    // Shipped but not applied yet: a follower joining now gets it after its snapshot.
    JsonObject joined = onLoop(() -> Future.succeededFuture(replicator.follow(new JsonObject().put("nodeId", "f2").put("lamport", 0L))));
    String session = joined.getString("session");
    Thread.sleep(300);
    // Sent now, it would overtake the reply that tells the follower its session, and be refused.
    assertEquals(List.of(), appends, "operations sent before the follower knows its session");
    JsonObject asked = onLoop(() -> Future.succeededFuture(replicator.follow(new JsonObject().put("nodeId", "f2")
        .put("session", session).put("lamport", joined.getLong("snapshotLamport")))));
    assertFalse(asked.getBoolean("inSync"));
    long deadline = System.currentTimeMillis() + 5000;
    while (appends.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(1, appends.size());
    assertEquals(session, appends.get(0).getString("session"));
    assertEquals(1L, appends.get(0).getJsonArray("ops").getJsonObject(0).getLong("lamport"));
    Thread.sleep(100);
    assertEquals(1L, (long) onLoop(() -> Future.succeededFuture(replicator.inSyncFollowers())), "in sync once the follower acknowledged");
  }
}
