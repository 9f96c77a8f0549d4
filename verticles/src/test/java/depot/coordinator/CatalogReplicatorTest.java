package depot.coordinator;

import depot.protocol.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The leader's side of catalog replication, with a follower played by a consumer on a local event bus. */
class CatalogReplicatorTest {
  Vertx vertx;
  final List<JsonObject> appends = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    vertx.eventBus().<JsonObject>consumer(Addresses.catalogReplica("f1"), msg -> {
      appends.add(msg.body());
      List<Object> ops = msg.body().getJsonArray("ops").getList();
      msg.reply(new JsonObject().put("lamport", ((JsonObject) ops.get(ops.size() - 1)).getLong("lamport")));
    });
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  <T> T onLoop(Supplier<T> action) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    vertx.runOnContext(v -> result.complete(action.get()));
    return result.get(10, TimeUnit.SECONDS);
  }

  @Test
  void operationsReachANewFollowerOnlyOnceItHasAskedWithItsSession() throws Exception {
    Catalog catalog = new Catalog();
    CatalogReplicator replicator = onLoop(() -> new CatalogReplicator(vertx, catalog, "leader", 1, 0));
    // An operation shipped but not applied yet: a follower joining now gets it after its snapshot.
    JsonObject op = new JsonObject().put("op", "test").put("lamport", catalog.tick()).put("term", 1L);
    assertTrue(onLoop(() -> replicator.replicate(op).succeeded()), "alone, past the grace period: at once");

    JsonObject joined = onLoop(() -> replicator.follow(new JsonObject().put("nodeId", "f1").put("lamport", 0L)));
    String session = joined.getString("session");
    Thread.sleep(300);
    // Sent now, it would overtake the reply that tells the follower its session, and be refused.
    assertEquals(List.of(), appends, "operations sent before the follower knows its session");

    JsonObject asked = onLoop(() -> replicator.follow(new JsonObject().put("nodeId", "f1").put("session", session)
        .put("lamport", joined.getLong("snapshotLamport"))));
    assertFalse(asked.getBoolean("inSync"));
    long deadline = System.currentTimeMillis() + 5000;
    while (appends.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(1, appends.size());
    assertEquals(session, appends.get(0).getString("session"));
    assertEquals(op.getLong("lamport"), appends.get(0).getJsonArray("ops").getJsonObject(0).getLong("lamport"));
    Thread.sleep(100);
    assertEquals(1L, (long) onLoop(replicator::inSyncFollowers), "in sync once the follower acknowledged");
  }
}
