package depot.coordinator;

import depot.protocol.Addresses;
import depot.testing.OnLoop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A catalog copy (journal on a real disk) fed by a stand-in leader on the local event bus: what it
 * acknowledges is on its disk.
 */
@ExtendWith(VertxExtension.class)
class CatalogFollowerTest {
  static final String SESSION = "s1";

  Vertx vertx;
  CatalogJournal journal;
  CatalogFollower follower;
  final AtomicInteger asked = new AtomicInteger();

  @BeforeEach
  void setUp(Vertx vertx, @TempDir Path dir) throws Exception {
    this.vertx = vertx;
    // The leader offers a session with an empty snapshot; the copy asks again once it has taken it.
    vertx.eventBus().<JsonObject>consumer(Addresses.CATALOG_FOLLOW, msg -> {
      if (SESSION.equals(msg.body().getString("session"))) {
        asked.incrementAndGet();
      }
      msg.reply(new JsonObject().put("leader", "leader").put("term", 1).put("session", SESSION)
          .put("inSync", false).put("snapshotLamport", 0).put("pages", 0));
    });
    journal = new CatalogJournal(vertx, dir.resolve("catalog"));
    Catalog empty = new Catalog();
    OnLoop.run(vertx, () -> journal.open(empty::apply, empty::toOps, empty::appliedLamport));
    follower = new CatalogFollower(vertx, "copy", journal, CatalogFollower.Replica.journalOnly(vertx, journal), 20, 0, 0);
    OnLoop.run(vertx, () -> follower.start());
    long deadline = System.currentTimeMillis() + 5000;
    while (asked.get() == 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(asked.get() > 0, "the copy took the session");
  }

  @AfterEach
  void tearDown() throws Exception {
    OnLoop.run(vertx, () -> follower.stop());
  }

  static JsonObject batch(long prev, long from, long to) {
    JsonArray ops = new JsonArray();
    LongStream.rangeClosed(from, to).forEach(l -> ops.add(new JsonObject().put("op", Catalog.OP_CLIENT_ADD)
        .put("clientId", "c" + l).put("nickname", "n" + l).put("tokenHash", "h" + l).put("at", "2026-12-02T00:00:00Z")
        .put("lamport", l).put("term", 1)));
    return new JsonObject().put("action", "append").put("term", 1).put("leader", "leader").put("session", SESSION)
        .put("prev", prev).put("ops", ops);
  }

  @Test
  void aBatchIsAcknowledgedUpToItsOwnLastOperationNotThoseThatArrivedWhileItWasSynced() throws Exception {
    // Sent back to back, as the leader does with several batches in flight: the second arrives while the
    // first is still being synced, and must not be counted durable by the first one's answer.
    List<Long> answered = OnLoop.run(vertx, () -> {
      Future<Message<JsonObject>> first = vertx.eventBus().request(Addresses.catalogReplica("copy"), batch(0, 1, 3));
      Future<Message<JsonObject>> second = vertx.eventBus().request(Addresses.catalogReplica("copy"), batch(3, 4, 6));
      return Future.all(first, second).map(v -> List.of(first.result().body().getLong("lamport"),
          second.result().body().getLong("lamport")));
    });
    assertEquals(List.of(3L, 6L), answered);
    Catalog onDisk = vertx.executeBlocking(() -> journal.load()).toCompletionStage().toCompletableFuture().get();
    assertEquals(6L, onDisk.appliedLamport(), "all six on the copy's disk");
  }
}
