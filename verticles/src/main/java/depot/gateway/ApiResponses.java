package depot.gateway;

import depot.protocol.DepotException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** JSON answers of the public API: {@code {"error": "<code>", "message": "..."}} for every failure. */
final class ApiResponses {
  private ApiResponses() {}

  static void fail(RoutingContext ctx, Throwable err) {
    fail(ctx.request(), DepotException.from(err));
  }

  static void fail(HttpServerRequest req, DepotException e) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    if (resp.headWritten()) {
      resp.reset();
      return;
    }
    boolean unread = !req.isEnded();
    if (unread) {
      // The client may still be sending a body we will not read: close instead of draining it.
      resp.putHeader(HttpHeaders.CONNECTION, "close");
    }
    closeIfUnread(req, unread, resp.setStatusCode(e.code().httpStatus())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(e.toJson().encode()));
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    HttpServerResponse resp = ctx.response();
    boolean unread = !ctx.request().isEnded();
    if (unread) {
      resp.putHeader(HttpHeaders.CONNECTION, "close");
    }
    closeIfUnread(ctx.request(), unread,
        resp.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode()));
  }

  /**
   * Vert.x closes a "Connection: close" exchange only once the request has ended too: a client that sends its
   * whole body before it reads the answer (the CLI, curl) would wait for ever. Closed once the answer is out.
   */
  private static void closeIfUnread(HttpServerRequest req, boolean unread, Future<Void> answered) {
    if (unread) {
      answered.onComplete(ar -> req.connection().close());
    }
  }
}
