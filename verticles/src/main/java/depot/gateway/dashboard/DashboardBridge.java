package depot.gateway.dashboard;

import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The dashboard's server side.
 *
 * <ul>
 *   <li>{@code /eventbus/*}: a SockJS event-bus bridge. Exactly one address goes out,
 *       {@value DashboardFeed#PUBLIC_ADDRESS}, which carries sanitized events only (types, node ids, statuses,
 *       counts; see {@link DashboardFeed}). Nothing comes in: no inbound address is permitted and sends and
 *       publishes from a browser are refused outright, so every change goes through the HTTP API's checks.</li>
 *   <li>{@code GET /api/v1/session}: who the Bearer token belongs to, {@code {admin, clientId, nickname}}, so
 *       the page can sign in without probing admin-only endpoints.</li>
 *   <li>{@code GET /api/v1/events[?since=SEQ&limit=N]}: the detailed feed from a ring buffer. The admin gets
 *       every event; a client gets node-level events and the events of its own files only.</li>
 * </ul>
 */
public final class DashboardBridge {
  /** The only address the bridge lets out. */
  public static final String EVENTS_ADDRESS = DashboardFeed.PUBLIC_ADDRESS;

  private static final int DEFAULT_EVENTS = 200;
  private static final long CLIENT_CACHE_MS = 10_000;
  private static final int CLIENT_CACHE_SIZE = 1000;

  private final Vertx vertx;
  private final Predicate<String> isAdminToken;
  private final DashboardFeed feed;
  private final Map<String, CachedViewer> viewers = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, CachedViewer> eldest) {
      return size() > CLIENT_CACHE_SIZE;
    }
  };

  /** Who looks at the page: the admin, or one client. */
  record Viewer(boolean admin, String clientId, String nickname) {
    JsonObject toJson() {
      JsonObject json = new JsonObject().put("admin", admin).put("nickname", nickname);
      if (clientId != null) {
        json.put("clientId", clientId);
      }
      return json;
    }
  }

  private record CachedViewer(Viewer viewer, long until) {}

  private DashboardBridge(Vertx vertx, Predicate<String> isAdminToken) {
    this.vertx = vertx;
    this.isAdminToken = isAdminToken;
    this.feed = new DashboardFeed(vertx);
  }

  /**
   * Mounts the bridge and the dashboard's endpoints. Call from the gateway verticle's start (the feed's
   * consumers and timers belong to that verticle). The two endpoints are ordered ahead of every other route,
   * so a catch-all {@code /api/*} handler registered earlier does not hide them.
   */
  public static void mount(Vertx vertx, Router router, Predicate<String> isAdminToken) {
    DashboardBridge bridge = new DashboardBridge(vertx, isAdminToken);
    bridge.feed.start();

    SockJSBridgeOptions options = new SockJSBridgeOptions()
        .addOutboundPermitted(new PermittedOptions().setAddress(EVENTS_ADDRESS));
    router.route("/eventbus/*").subRouter(SockJSHandler.create(vertx).bridge(options, bridge::onBridgeEvent));

    router.get("/api/v1/session").order(-20).handler(bridge::session);
    router.get("/api/v1/events").order(-19).handler(bridge::events);
  }

  private void onBridgeEvent(BridgeEvent event) {
    BridgeEventType type = event.type();
    if (type == BridgeEventType.SOCKET_CREATED) {
      feed.watchers(1);
    } else if (type == BridgeEventType.SOCKET_CLOSED) {
      feed.watchers(-1);
    }
    // Belt and braces: no inbound address is permitted anyway, but a browser never sends or publishes.
    event.complete(type != BridgeEventType.SEND && type != BridgeEventType.PUBLISH);
  }

  // ---- HTTP ----

  private void session(RoutingContext ctx) {
    viewer(ctx).onSuccess(v -> json(ctx, 200, v.toJson())).onFailure(err -> fail(ctx, err));
  }

  private void events(RoutingContext ctx) {
    long since;
    int limit;
    try {
      since = parse(ctx.request().getParam("since"), 0L);
      limit = (int) Math.min(DashboardFeed.CAPACITY, parse(ctx.request().getParam("limit"), DEFAULT_EVENTS));
      if (since < 0 || limit < 1) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      fail(ctx, DepotException.badRequest("since must be >= 0 and limit >= 1 (whole numbers)"));
      return;
    }
    viewer(ctx).onSuccess(v -> {
      List<JsonObject> events = v.admin() ? feed.forAdmin(since, limit) : feed.forClient(v.clientId(), since, limit);
      json(ctx, 200, new JsonObject().put("events", new JsonArray(List.copyOf(events))).put("latest", feed.latest())
          .put("admin", v.admin()));
    }).onFailure(err -> fail(ctx, err));
  }

  private static long parse(String value, long fallback) {
    return value == null || value.isBlank() ? fallback : Long.parseLong(value.trim());
  }

  /** The admin by token comparison; a client as the coordinator knows it (remembered for a few seconds). */
  private Future<Viewer> viewer(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(new DepotException(ErrorCode.UNAUTHORIZED, "missing 'Authorization: Bearer <token>'"));
    }
    if (isAdminToken.test(token)) {
      return Future.succeededFuture(new Viewer(true, null, "admin"));
    }
    CachedViewer hit = viewers.get(token);
    if (hit != null && hit.until() > System.currentTimeMillis()) {
      return Future.succeededFuture(hit.viewer());
    }
    return vertx.eventBus().<JsonObject>request(Addresses.COORDINATOR_CLIENT_AUTHENTICATE,
            new JsonObject().put("token", token), new DeliveryOptions().setSendTimeout(10_000))
        .map(reply -> {
          Viewer v = new Viewer(false, reply.body().getString("clientId"), reply.body().getString("nickname"));
          viewers.put(token, new CachedViewer(v, System.currentTimeMillis() + CLIENT_CACHE_MS));
          return v;
        })
        .recover(err -> Future.failedFuture(DepotException.from(err)));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end(body.encode());
  }

  private static void fail(RoutingContext ctx, Throwable err) {
    if (ctx.response().ended()) {
      return;
    }
    DepotException e = DepotException.from(err);
    json(ctx, e.code().httpStatus(), e.toJson());
  }
}
