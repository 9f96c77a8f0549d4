package depot.gateway;

import depot.config.DepotConfig;
import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.DataPathHttp;
import depot.protocol.SignedLinks;
import depot.protocol.UploadTickets;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import depot.protocol.LeaderRequests;
import depot.election.Election;
import depot.coordinator.CoordinatorVerticle;
import depot.directory.DirectoryVerticle;
import depot.protocol.Tokens;
import depot.gateway.dashboard.DashboardBridge;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Set;

/**
 * The public HTTP API ({@code /api/v1}), health, metrics and the dashboard's static files. Control goes
 * to the coordinator over the event bus; file bytes stream between the client and storage nodes.
 */
public class GatewayVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(GatewayVerticle.class);
  private static final long SMALL_BODY_LIMIT = 64 * 1024;

  private final DepotConfig config;
  private final String adminToken;
  private final String metricsRegistry;
  private HttpServer server;
  private HttpClient storageClient;
  /** The cluster's HMAC key: signed links, and the credentials an Idempotency-Key stands for. */
  private SignedLinks links;
  private Authenticator auth;
  private LeaderRequests leader;
  /** Watch the elections (without standing) to tell who leads. */
  private Election coordinators;
  private Election directories;
  private DownloadHandler downloads;
  private UploadHandler uploads;

  public GatewayVerticle(DepotConfig config, String adminToken, String metricsRegistry) {
    this.config = config;
    this.adminToken = adminToken;
    this.metricsRegistry = metricsRegistry;
  }

  public int port() {
    return server.actualPort();
  }

  @Override
  public Future<?> start() {
    storageClient = vertx.createHttpClient(DataPathHttp.clientOptions(), new PoolOptions().setHttp1MaxSize(256));
    leader = new LeaderRequests(vertx, config.failoverWindowMs());
    coordinators = Election.watcher(vertx, CoordinatorVerticle.ELECTION_GROUP, config.heartbeatIntervalMs(), config.nodeExpiryMs());
    directories = Election.watcher(vertx, DirectoryVerticle.ELECTION_GROUP, config.heartbeatIntervalMs(), config.nodeExpiryMs());
    auth = new Authenticator(vertx, adminToken, leader);

    Router router = Router.router(vertx);
    router.route("/api/*").handler(GatewayVerticle::requireDecodableQuery);
    BodyHandler smallJson = BodyHandler.create(false).setBodyLimit(SMALL_BODY_LIMIT);
    router.post("/api/v1/clients").handler(smallJson).handler(this::registerClient);
    router.get("/api/v1/files").handler(this::listFiles);
    router.get("/api/v1/files/:name/meta").handler(this::fileMeta);
    router.put("/api/v1/files/:name/replicas").handler(smallJson).handler(this::changeReplicas);
    router.put("/api/v1/files/:name").handler(ctx -> uploads.handle(ctx));
    router.get("/api/v1/files/:name").handler(ctx -> locate(ctx).onSuccess(l -> downloads.send(ctx, l)));
    router.head("/api/v1/files/:name").handler(ctx -> locate(ctx).onSuccess(l -> downloads.send(ctx, l)));
    router.delete("/api/v1/files/:name").handler(this::deleteFile);
    router.get("/api/v1/nodes").handler(this::nodes);
    router.get("/api/v1/clients").handler(this::clients);
    router.get("/api/v1/stats").handler(this::stats);
    router.get("/api/v1/clocks").handler(this::clocks);
    router.get("/api/v1/admin/election").handler(this::election);
    router.post("/api/v1/admin/election").handler(smallJson).handler(this::triggerElection);
    router.get("/health").handler(this::health);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(metricsRegistry));
    router.route("/api/*").handler(this::noSuchEndpoint);
    DashboardBridge.mount(vertx, router, auth::isAdminToken);
    router.route("/*").handler(StaticHandler.create(config.webRoot()).setCachingEnabled(false));
    // What the router refuses before any handler runs: a path it cannot decode, a JSON body over the limit.
    router.errorHandler(400, GatewayVerticle::undecodablePath);
    router.errorHandler(413, ctx -> ApiResponses.fail(ctx, new DepotException(ErrorCode.TOO_LARGE,
        "the JSON body is over " + SMALL_BODY_LIMIT + " bytes")));
    router.errorHandler(500, ctx -> {
      log.error("unhandled error on {}", ctx.request().path(), ctx.failure());
      ApiResponses.fail(ctx, new DepotException(ErrorCode.INTERNAL, "internal error"));
    });

    return Future.all(coordinators.start(), directories.start())
        .compose(v -> SignedLinks.load(vertx, config.clusterSecret()))
        .onSuccess(links -> {
          this.links = links;
          downloads = new DownloadHandler(config, storageClient, links);
          uploads = new UploadHandler(vertx, config, storageClient, auth, leader, new UploadTickets(links));
        })
        .compose(t -> vertx.createHttpServer(DataPathHttp.serverOptions().setHandle100ContinueAutomatically(false))
        .requestHandler(router)
        .listen(config.httpPort(), config.httpHost())
        .onSuccess(s -> {
          server = s;
          log.info("gateway listening on http://{}:{}", config.advertisedHost(), s.actualPort());
        }));
  }

  @Override
  public Future<?> stop() {
    return Future.join(coordinators.stop(), directories.stop()).eventually(() -> storageClient.close());
  }

  /** What a file's paths answer to; under {@code /api/v1/files/} any other method is refused as such. */
  private static final Set<HttpMethod> FILE_METHODS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT, HttpMethod.DELETE);

  /**
   * Unmatched API paths. Under {@code /api/v1/files/} that means a name the router could not take as one
   * path segment ({@code ..}, {@code .}, an unencoded '/', none at all): an invalid name, not a missing endpoint.
   */
  private void noSuchEndpoint(RoutingContext ctx) {
    String raw = ctx.request().path();
    HttpMethod method = ctx.request().method();
    if (raw.startsWith(FileNameSegment.PREFIX)) {
      if (!FILE_METHODS.contains(method)) {
        ctx.response().putHeader(HttpHeaders.ALLOW, "GET, HEAD, PUT, DELETE");
        ApiResponses.fail(ctx, new DepotException(ErrorCode.METHOD_NOT_ALLOWED,
            method + " is not a request on a file; use GET, HEAD, PUT or DELETE"));
      } else {
        ApiResponses.fail(ctx, new DepotException(ErrorCode.INVALID_NAME, raw.length() == FileNameSegment.PREFIX.length()
            ? "file name must not be empty" : "file names must not be '.', '..' or contain '/'"));
      }
      return;
    }
    ApiResponses.fail(ctx, DepotException.notFound("no such endpoint: " + ctx.request().method() + " " + raw));
  }

  /** A query string with a broken escape would fail every handler that reads a parameter: refused up front. */
  private static void requireDecodableQuery(RoutingContext ctx) {
    try {
      ctx.request().params();
    } catch (IllegalArgumentException e) {
      ApiResponses.fail(ctx, DepotException.badRequest("malformed query string: " + e.getMessage()));
      return;
    }
    ctx.next();
  }

  /** The router fails a request with 400 before routing it when a percent-escape in its path is broken. */
  private static void undecodablePath(RoutingContext ctx) {
    String raw = ctx.request().path();
    String rule = "'%' must be followed by two hex digits; write '%25' for '%'";
    ApiResponses.fail(ctx, raw != null && raw.startsWith(FileNameSegment.PREFIX)
        ? new DepotException(ErrorCode.INVALID_NAME, "the file name's percent-encoding is malformed: " + rule)
        : DepotException.badRequest("the path's percent-encoding is malformed: " + rule));
  }

  private <T> Future<T> ask(String address, JsonObject body) {
    // A replica change waits (bounded) for the copies to exist; everything else answers at once.
    long attemptMs = Addresses.COORDINATOR_FILE_REPLICAS.equals(address) ? 90_000 : 15_000;
    return leader.<T>request(address, body, attemptMs)
        .map(m -> m.body())
        .recover(err -> Future.failedFuture(DepotException.from(err)));
  }

  private void registerClient(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      ApiResponses.fail(ctx, DepotException.badRequest("expected a JSON body {\"nickname\": \"...\"}"));
      return;
    }
    // Chosen here, once per request (or once per Idempotency-Key): the coordinator hears the same
    // registration however often it is sent while leadership moves, and only the token's hash leaves this node.
    String key = ctx.request().getHeader(Headers.IDEMPOTENCY_KEY);
    ClientCredentials.Issued issued;
    try {
      issued = key == null ? ClientCredentials.fresh() : ClientCredentials.forKey(links, key);
    } catch (DepotException e) {
      ApiResponses.fail(ctx, e);
      return;
    }
    String nickname = body.getValue("nickname") instanceof String s ? s : null;
    JsonObject registration = new JsonObject().put("nickname", nickname)
        .put("clientId", issued.clientId()).put("tokenHash", Tokens.hash(issued.token()));
    this.<JsonObject>ask(Addresses.COORDINATOR_CLIENT_REGISTER, registration)
        .compose(reply -> key == null ? Future.succeededFuture(reply) : sameRegistration(reply, nickname))
        .onSuccess(reply -> ApiResponses.json(ctx, 201, reply.put("token", issued.token())))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  /** An Idempotency-Key answers again only for the registration it made, and only for a while. */
  private static Future<JsonObject> sameRegistration(JsonObject reply, String nickname) {
    if (nickname == null || !reply.getString("nickname", "").equals(nickname.trim())) {
      return Future.failedFuture(new DepotException(ErrorCode.CONFLICT,
          Headers.IDEMPOTENCY_KEY + " was used for another registration; send a new one"));
    }
    if (!ClientCredentials.replayable(reply.getString("createdAt"), Instant.now())) {
      return Future.failedFuture(new DepotException(ErrorCode.CONFLICT, Headers.IDEMPOTENCY_KEY
          + " was used more than " + ClientCredentials.REPLAY_WINDOW.toMinutes() + " minutes ago; send a new one"));
    }
    return Future.succeededFuture(reply);
  }

  /** The request for one file of the caller (or, for the admin, of {@code ?owner=}). */
  private Future<JsonObject> fileRequest(RoutingContext ctx) {
    String name;
    try {
      name = FileNameSegment.of(ctx);
    } catch (DepotException e) {
      return Future.failedFuture(e);
    }
    return auth.authenticate(ctx).compose(caller -> {
      String owner = caller.admin() ? ctx.request().getParam("owner") : caller.clientId();
      if (owner == null) {
        return Future.failedFuture(DepotException.badRequest("the admin token needs ?owner=<clientId>"));
      }
      return Future.succeededFuture(new JsonObject().put("owner", owner).put("name", name));
    });
  }

  private Future<JsonObject> locate(RoutingContext ctx) {
    return fileRequest(ctx).compose(req -> this.<JsonObject>ask(Addresses.COORDINATOR_FILE_LOCATE, req))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  /** {@code GET /api/v1/files[?q=&sort=&order=&offset=&limit=]}; the admin sees every client's files. */
  private void listFiles(RoutingContext ctx) {
    JsonObject query = new JsonObject();
    try {
      for (String p : new String[] {"q", "sort", "order"}) {
        if (ctx.request().getParam(p) != null) {
          query.put(p, ctx.request().getParam(p));
        }
      }
      for (String p : new String[] {"offset", "limit"}) {
        if (ctx.request().getParam(p) != null) {
          query.put(p, Integer.parseInt(ctx.request().getParam(p)));
        }
      }
    } catch (NumberFormatException e) {
      ApiResponses.fail(ctx, DepotException.badRequest("offset and limit must be whole numbers"));
      return;
    }
    auth.authenticate(ctx)
        .compose(caller -> this.<JsonObject>ask(Addresses.COORDINATOR_FILE_LIST, caller.admin()
            ? query.put("all", true) : query.put("owner", caller.clientId())))
        .onSuccess(reply -> ApiResponses.json(ctx, 200, reply))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private void fileMeta(RoutingContext ctx) {
    locate(ctx).onSuccess(located -> ApiResponses.json(ctx, 200, located.getJsonObject("record")));
  }

  private void deleteFile(RoutingContext ctx) {
    fileRequest(ctx).compose(req -> this.<JsonObject>ask(Addresses.COORDINATOR_FILE_DELETE, req))
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private void changeReplicas(RoutingContext ctx) {
    Object replicas;
    try {
      JsonObject body = ctx.body().asJsonObject();
      replicas = body == null ? null : body.getValue("replicas");
    } catch (RuntimeException e) {
      replicas = null;
    }
    if (!(replicas instanceof Integer)) {
      ApiResponses.fail(ctx, new DepotException(ErrorCode.INVALID_REPLICAS, "expected {\"replicas\": N} with N a whole number"));
      return;
    }
    Object wanted = replicas;
    fileRequest(ctx).compose(req -> this.<JsonObject>ask(Addresses.COORDINATOR_FILE_REPLICAS, req.put("replicas", wanted)))
        .onSuccess(record -> ApiResponses.json(ctx, 200, record))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  /** Every node the directory knows; the leading coordinator has {@code "leader": true}, and {@code leads} names what each leads. */
  private void nodes(RoutingContext ctx) {
    auth.requireAdmin(ctx)
        .compose(admin -> this.<JsonObject>ask(Addresses.DIRECTORY_NODES, new JsonObject()))
        .onSuccess(nodes -> {
          String coordinator = coordinators.leader().map(Election.Beacon::nodeId).orElse(null);
          String directory = directories.leader().map(Election.Beacon::nodeId).orElse(null);
          JsonArray out = new JsonArray();
          for (Object o : nodes.getJsonArray("nodes")) {
            JsonObject n = ((JsonObject) o).copy();
            String id = n.getString("id");
            JsonArray leads = new JsonArray();
            if (id.equals(coordinator)) {
              leads.add(DepotConfig.ROLE_COORDINATOR);
            }
            if (id.equals(directory)) {
              leads.add(DepotConfig.ROLE_DIRECTORY);
            }
            out.add(n.put("leader", id.equals(coordinator)).put("leads", leads));
          }
          ApiResponses.json(ctx, 200, new JsonObject().put("nodes", out));
        })
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  /** The elections as this gateway sees them: candidates, ranks, terms and leaders. */
  private void election(RoutingContext ctx) {
    auth.requireAdmin(ctx)
        .onSuccess(admin -> ApiResponses.json(ctx, 200, elections()))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private JsonObject elections() {
    return new JsonObject().put(DepotConfig.ROLE_COORDINATOR, coordinators.describe())
        .put(DepotConfig.ROLE_DIRECTORY, directories.describe());
  }

  /**
   * Runs a new election in a group ({@code {"group": "coordinator"}} by default): the leader steps down and
   * the best candidate takes over in a new term. Answers once a leader of a later term is seen (or after
   * the failover window).
   */
  private void triggerElection(RoutingContext ctx) {
    auth.requireAdmin(ctx).onSuccess(admin -> {
      JsonObject body = ctx.body().available() ? ctx.body().asJsonObject() : new JsonObject();
      Object group = body == null ? null : body.getValue("group");
      Election watched = group == null || DepotConfig.ROLE_COORDINATOR.equals(group) ? coordinators
          : DepotConfig.ROLE_DIRECTORY.equals(group) ? directories : null;
      if (watched == null) {
        ApiResponses.fail(ctx, DepotException.badRequest("'group' must be \"coordinator\" or \"directory\""));
        return;
      }
      long before = watched.term();
      long started = System.currentTimeMillis();
      watched.trigger();
      long timer = vertx.setPeriodic(200, id -> {
        boolean elected = watched.leader().map(b -> b.term() > before).orElse(false);
        if (elected || System.currentTimeMillis() - started > config.failoverWindowMs()) {
          vertx.cancelTimer(id);
          ApiResponses.json(ctx, elected ? 200 : 503, elections().put("previousTerm", before)
              .put("electedInMs", System.currentTimeMillis() - started).put("elected", elected));
        }
      });
      ctx.request().connection().closeHandler(v -> vertx.cancelTimer(timer));
    }).onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private void clients(RoutingContext ctx) {
    auth.requireAdmin(ctx)
        .compose(admin -> this.<JsonObject>ask(Addresses.COORDINATOR_CLIENT_LIST, new JsonObject()))
        .onSuccess(clients -> ApiResponses.json(ctx, 200, clients))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private void clocks(RoutingContext ctx) {
    auth.requireAdmin(ctx)
        .compose(admin -> this.<JsonObject>ask(Addresses.COORDINATOR_CLOCKS, new JsonObject()))
        .onSuccess(clocks -> ApiResponses.json(ctx, 200, clocks))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private void stats(RoutingContext ctx) {
    auth.requireAdmin(ctx)
        .compose(admin -> this.<JsonObject>ask(Addresses.COORDINATOR_STATS, new JsonObject()))
        .onSuccess(stats -> ApiResponses.json(ctx, 200, stats))
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private void health(RoutingContext ctx) {
    Future<JsonObject> nodes = ask(Addresses.DIRECTORY_NODES, new JsonObject());
    Future<JsonObject> stats = ask(Addresses.COORDINATOR_STATS, new JsonObject());
    Future.join(nodes, stats)
        .onComplete(ar -> {
          boolean directory = nodes.succeeded();
          boolean coordinator = stats.succeeded();
          long liveStorage = 0;
          if (directory) {
            for (Object o : nodes.result().getJsonArray("nodes")) {
              JsonObject n = (JsonObject) o;
              if ("UP".equals(n.getString("status")) && n.getJsonArray("roles").contains("storage")) {
                liveStorage++;
              }
            }
          }
          boolean up = directory && coordinator && liveStorage > 0;
          ApiResponses.json(ctx, up ? 200 : 503, new JsonObject().put("status", up ? "UP" : "DOWN")
              .put("directory", directory).put("coordinator", coordinator).put("liveStorageNodes", liveStorage));
        });
  }
}
