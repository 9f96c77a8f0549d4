package depot.protocol;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DepotExceptionTest {
  static Vertx vertx;

  @BeforeAll
  static void up() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Sends a request and returns what it failed with. */
  private static Throwable failureOf(String address, Object body, DeliveryOptions options) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> vertx.eventBus().request(address, body, options)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void toJsonCarriesCodeAndMessage() {
    DepotException e = new DepotException(ErrorCode.DUPLICATE_NAME, "name 'x' is taken");
    assertEquals(new JsonObject().put("error", "duplicate_name").put("message", "name 'x' is taken"), e.toJson());
    assertSame(ErrorCode.DUPLICATE_NAME, e.code());
  }

  @ParameterizedTest
  @EnumSource(ErrorCode.class)
  void replyExceptionRoundTripKeepsCodeAndMessage(ErrorCode code) {
    DepotException original = new DepotException(code, "something about \"" + code.code() + "\" {braces} ü");
    // What Message.fail(status, json) puts on the wire.
    ReplyException wire = new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code.httpStatus(), original.toJson().encode());
    DepotException back = DepotException.from(wire);
    assertEquals(code, back.code());
    assertEquals(original.getMessage(), back.getMessage());
  }

  @Test
  void roundTripOverTheEventBus() throws Exception {
    String address = "test.depot-exception." + System.nanoTime();
    vertx.eventBus().consumer(address, msg -> new DepotException(ErrorCode.NOT_FOUND, "no file named 'a b'").replyTo(msg))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Throwable failure = failureOf(address, new JsonObject(), new DeliveryOptions());
    ReplyException re = assertInstanceOf(ReplyException.class, failure);
    assertEquals(404, re.failureCode());
    DepotException back = DepotException.from(re);
    assertEquals(ErrorCode.NOT_FOUND, back.code());
    assertEquals("no file named 'a b'", back.getMessage());
  }

  @Test
  void noHandlersIsUnavailable() throws Exception {
    Throwable failure = failureOf("test.nobody-listens." + System.nanoTime(), new JsonObject(), new DeliveryOptions());
    ReplyException re = assertInstanceOf(ReplyException.class, failure);
    assertEquals(ReplyFailure.NO_HANDLERS, re.failureType());
    DepotException back = DepotException.from(re);
    assertEquals(ErrorCode.UNAVAILABLE, back.code());
    assertEquals(503, back.code().httpStatus());
  }

  @Test
  void noHandlersConstructedIsUnavailable() {
    assertEquals(ErrorCode.UNAVAILABLE,
        DepotException.from(new ReplyException(ReplyFailure.NO_HANDLERS, "No handlers for address x")).code());
  }

  @Test
  void timeoutIsUnavailable() throws Exception {
    String address = "test.silent." + System.nanoTime();
    vertx.eventBus().consumer(address, msg -> { /* never replies */ })
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Throwable failure = failureOf(address, new JsonObject(), new DeliveryOptions().setSendTimeout(100));
    ReplyException re = assertInstanceOf(ReplyException.class, failure);
    assertEquals(ReplyFailure.TIMEOUT, re.failureType());
    assertEquals(ErrorCode.UNAVAILABLE, DepotException.from(re).code());
  }

  @Test
  void garbageMessageIsInternal() {
    DepotException back = DepotException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, "boom: it broke"));
    assertEquals(ErrorCode.INTERNAL, back.code());
    assertEquals("boom: it broke", back.getMessage());
  }

  @Test
  void brokenJsonMessageIsInternal() {
    DepotException back = DepotException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, "{not json"));
    assertEquals(ErrorCode.INTERNAL, back.code());
    assertNotNull(back.getMessage());
  }

  @Test
  void unknownErrorCodeIsInternal() {
    String msg = new JsonObject().put("error", "no_such_code").put("message", "m").encode();
    DepotException back = DepotException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 418, msg));
    assertEquals(ErrorCode.INTERNAL, back.code());
    assertEquals("m", back.getMessage());
  }

  @Test
  void nullMessageIsInternal() {
    DepotException back = DepotException.from(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, null));
    assertEquals(ErrorCode.INTERNAL, back.code());
  }

  @Test
  void garbageReplyOverTheEventBusIsInternal() throws Exception {
    String address = "test.garbage." + System.nanoTime();
    vertx.eventBus().consumer(address, msg -> msg.fail(500, "plain text failure"))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    DepotException back = DepotException.from(failureOf(address, "x", new DeliveryOptions()));
    assertEquals(ErrorCode.INTERNAL, back.code());
    assertTrue(back.getMessage().contains("plain text failure"));
  }

  @Test
  void depotExceptionIsReturnedAsIs() {
    DepotException e = DepotException.badRequest("bad");
    assertSame(e, DepotException.from(e));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
    assertEquals(ErrorCode.NOT_FOUND, DepotException.notFound("nf").code());
  }

  @Test
  void otherThrowablesAreInternal() {
    DepotException e = DepotException.from(new IllegalStateException("disk on fire"));
    assertEquals(ErrorCode.INTERNAL, e.code());
    assertEquals("disk on fire", e.getMessage());
    assertEquals(ErrorCode.INTERNAL, DepotException.from(new NullPointerException()).code());
    assertNotNull(DepotException.from(new NullPointerException()).getMessage());
  }

  @Test
  void errorCodesAreUniqueAndResolvable() {
    for (ErrorCode c : ErrorCode.values()) {
      assertSame(c, ErrorCode.fromCode(c.code()));
      assertTrue(c.httpStatus() >= 400 && c.httpStatus() < 600);
    }
    assertSame(ErrorCode.INTERNAL, ErrorCode.fromCode(null));
    assertSame(ErrorCode.INTERNAL, ErrorCode.fromCode("BAD_REQUEST"));
  }
}
