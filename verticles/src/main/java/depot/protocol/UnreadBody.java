package depot.protocol;

import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.util.function.Function;

/**
 * Answers given before a request's body has been read to its end (a refusal, a failed pipeline, a deduplicated
 * deposit). The rest of the body is not drained: the connection closes once the answer is out. Vert.x alone
 * would hold a "Connection: close" exchange open until the request ended, and a client that reads the answer
 * only after sending its whole body (the CLI, curl) would wait for ever on a full socket.
 */
public final class UnreadBody {
  private UnreadBody() {}

  /** Writes the answer with {@code write}; if the body is still coming, closes the connection after it. */
  public static Future<Void> answer(HttpServerRequest req, Function<HttpServerResponse, Future<Void>> write) {
    boolean unread = !req.isEnded();
    if (unread) {
      req.response().putHeader(HttpHeaders.CONNECTION, "close");
    }
    Future<Void> sent = write.apply(req.response());
    if (unread) {
      sent.onComplete(ar -> req.connection().close());
    }
    return sent;
  }
}
