package depot.gateway;

import depot.protocol.Addresses;
import depot.protocol.LeaderRequests;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resolves {@code Authorization: Bearer <token>} to a {@link Caller}. Client tokens are checked by the
 * coordinator and remembered briefly, so a burst of small deposits does not ask again for each one.
 */
final class Authenticator {
  private static final long CACHE_MS = 10_000;
  private static final int CACHE_SIZE = 10_000;

  private final Vertx vertx;
  private final String adminToken;
  private final LeaderRequests leader;
  private final Map<String, Cached> cache = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > CACHE_SIZE;
    }
  };

  private record Cached(Caller caller, long until) {}

  Authenticator(Vertx vertx, String adminToken, LeaderRequests leader) {
    this.vertx = vertx;
    this.adminToken = adminToken;
    this.leader = leader;
  }

  static String bearer(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    return null;
  }

  boolean isAdminToken(String token) {
    return token != null && adminToken != null && !adminToken.isEmpty()
        && MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), adminToken.getBytes(StandardCharsets.UTF_8));
  }

  Future<Caller> authenticate(RoutingContext ctx) {
    String token = bearer(ctx);
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(new DepotException(ErrorCode.UNAUTHORIZED, "missing 'Authorization: Bearer <token>'"));
    }
    if (isAdminToken(token)) {
      return Future.succeededFuture(new Caller(null, "admin", true));
    }
    Cached hit = cache.get(token);
    if (hit != null && hit.until() > System.currentTimeMillis()) {
      return Future.succeededFuture(hit.caller());
    }
    return leader.<JsonObject>request(Addresses.COORDINATOR_CLIENT_AUTHENTICATE,
            new JsonObject().put("token", token), 10_000)
        .map(reply -> {
          Caller caller = new Caller(reply.body().getString("clientId"), reply.body().getString("nickname"), false);
          cache.put(token, new Cached(caller, System.currentTimeMillis() + CACHE_MS));
          return caller;
        })
        .recover(err -> Future.failedFuture(DepotException.from(err)));
  }

  Future<Caller> requireAdmin(RoutingContext ctx) {
    String token = bearer(ctx);
    if (!isAdminToken(token)) {
      return Future.failedFuture(new DepotException(ErrorCode.FORBIDDEN, "this needs the admin token"));
    }
    return Future.succeededFuture(new Caller(null, "admin", true));
  }
}
