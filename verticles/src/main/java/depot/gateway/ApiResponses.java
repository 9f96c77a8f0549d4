package depot.gateway;

import depot.protocol.DepotException;
import depot.protocol.UnreadBody;
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
    UnreadBody.answer(req, r -> r.setStatusCode(e.code().httpStatus())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(e.toJson().encode()));
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    UnreadBody.answer(ctx.request(),
        r -> r.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode()));
  }
}
