package depot.protocol;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Requests to a leader while it changes, on a local event bus. */
@ExtendWith(VertxExtension.class)
class LeaderRequestsTest {
  static final String ADDRESS = "test.leader";
  Vertx vertx;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
  }

  @Test
  void aRequestWaitingOnALeaderThatDiedIsSentAgainWhenANewLeaderIsElected() throws Exception {
    AtomicInteger received = new AtomicInteger();
    // The old leader takes the request and dies before answering: the attempt would only time out.
    MessageConsumer<Object> dead = vertx.eventBus().consumer(ADDRESS, msg -> received.incrementAndGet());
    dead.completion().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    CompletableFuture<Message<JsonObject>> answer = new CompletableFuture<>();
    long sent = System.currentTimeMillis();
    vertx.runOnContext(v -> new LeaderRequests(vertx, 60_000)
        .<JsonObject>request(ADDRESS, new JsonObject().put("n", 1), 30_000)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            answer.complete(ar.result());
          } else {
            answer.completeExceptionally(ar.cause());
          }
        }));
    long deadline = System.currentTimeMillis() + 5000;
    while (received.get() == 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(1, received.get());
    dead.unregister().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    // A new leader serves the address and announces itself.
    vertx.eventBus().<JsonObject>consumer(ADDRESS, msg -> msg.reply(new JsonObject().put("from", "new")))
        .completion().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    vertx.eventBus().publish(Addresses.ELECTION_EVENTS, new JsonObject().put("type", "leader.elected")
        .put("group", "coordinator").put("leader", "new").put("term", 2));
    assertEquals("new", answer.get(10, TimeUnit.SECONDS).body().getString("from"));
    assertTrue(System.currentTimeMillis() - sent < 10_000, "answered long before the 30 s attempt timeout");
  }
}
