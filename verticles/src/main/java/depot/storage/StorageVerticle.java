package depot.storage;

import depot.config.DepotConfig;
import depot.node.HeapPressure;
import depot.protocol.Addresses;
import depot.protocol.DepotException;
import depot.protocol.InventoryDigest;
import depot.protocol.DataPathHttp;
import depot.protocol.DepositCommit;
import depot.protocol.LeaderRequests;
import depot.protocol.UnreadBody;
import depot.protocol.UploadTickets;
import depot.protocol.SignedLinks;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import depot.protocol.ByteRange;
import io.github.bucket4j.Bucket;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * A storage node: replicas on local disk, streamed in and out over HTTP (the data path), commanded over
 * the event bus (delete, replicate from a peer, inventory).
 */
public class StorageVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(StorageVerticle.class);

  private static final java.util.regex.Pattern SHA256_HEX = java.util.regex.Pattern.compile("[0-9a-f]{64}");

  private final DepotConfig config;
  private final String nodeId;
  private BlobStore store;
  /** The replica index lives in the heap: nearly full, this node takes no new replica (and says so). */
  private HeapPressure heap;
  private BlobWriter writer;
  private BatchWriter batchWriter;
  private BlobReader reader;
  private HttpClient client;
  private HttpServer server;
  private MessageConsumer<Object> commands;
  private SignedLinks tickets;
  private UploadTickets uploadTickets;
  /** Blobs of direct upload links used so far (see takeDirectUpload); touched on this verticle's event loop. */
  private final Set<String> directUploadsTaken = new HashSet<>();
  /** Commits of deposits received directly from clients, to whichever coordinator leads. */
  private LeaderRequests leader;
  private Scrubber scrubber;
  private long compactionTimer = -1;
  /** Shared by every repair copy this node sends; null when repairs are not throttled. */
  private Bucket repairThrottle;
  private int repairsOut;
  private int repairsIn;
  private long repairBytesOut;
  /** Pulls running, by blob: a second command for the same blob (say, from a new leader) joins the first. */
  private final Map<String, Future<JsonObject>> pulling = new HashMap<>();

  public StorageVerticle(DepotConfig config, String nodeId) {
    this.config = config;
    this.nodeId = nodeId;
  }

  /** The port the data endpoint listens on (resolved when the configured port is 0). */
  public int port() {
    return server.actualPort();
  }

  public BlobStore store() {
    return store;
  }

  @Override
  public Future<?> start() {
    heap = HeapPressure.shared(config.heapLimitPercent());
    store = new BlobStore(vertx, Path.of(config.dataDir()), config.packRollBytes(),
        config.packCompactionBytesPerSecond());
    client = vertx.createHttpClient(DataPathHttp.clientOptions(), new PoolOptions().setHttp1MaxSize(64));
    reader = new BlobReader(vertx, store);
    repairThrottle = ThrottledReadStream.bucket(config.repairBytesPerSecond());
    leader = new LeaderRequests(vertx, config.failoverWindowMs());

    Router router = Router.router(vertx);
    router.route("/internal/*").handler(this::requireClusterSecret);
    router.put("/internal/v1/blobs/:blobId").handler(this::receive);
    router.put(BatchWriter.PATH).handler(this::receiveBatch);
    router.get("/internal/v1/blobs/:blobId").handler(this::serveInternal);
    router.head("/internal/v1/blobs/:blobId").handler(this::serveInternal);
    // Signed links from the gateway: a client reads a replica directly, without the gateway hop.
    // Upload links from the gateway (307): a client sends a deposit's body straight to its pipeline's head.
    router.put("/direct/v1/uploads/:blobId").handler(this::receiveDirect);
    router.get("/direct/v1/blobs/:blobId").handler(this::serveDirect);
    router.head("/direct/v1/blobs/:blobId").handler(this::serveDirect);
    router.get("/direct/v1/blobs/:blobId/local").handler(this::describeLocal);
    router.get("/internal/v1/health").handler(ctx -> ctx.json(new JsonObject().put("node", nodeId).put("status", "UP")));

    commands = vertx.eventBus().consumer(Addresses.storageNode(nodeId), this::command);
    return store.open()
        // The writer needs the store open: that is when the data folder's O_DIRECT support is known.
        .onSuccess(v -> {
          writer = new BlobWriter(vertx, store, client, nodeId, config.chunkSize(),
              config.smallBlobMaxBytes(), config.clusterSecret(), config.directIoBufferBytes());
          batchWriter = new BatchWriter(vertx, store, client, nodeId, config.chunkSize(), config.clusterSecret());
        })
        .compose(v -> SignedLinks.load(vertx, config.clusterSecret()))
        .onSuccess(t -> {
          tickets = t;
          uploadTickets = new UploadTickets(t);
        })
        .compose(v -> vertx.createHttpServer(DataPathHttp.serverOptions()
            // A sender that stalls this long has gone: drop it, and its partial replica with it.
            .setIdleTimeout(120).setIdleTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS))
            .requestHandler(router).listen(config.storagePort(), config.httpHost()))
        .onSuccess(s -> {
          server = s;
          log.info("storage {} serving replicas on port {}", nodeId, s.actualPort());
          scrubber = new Scrubber(vertx, store, reader, nodeId, config.scrubBytesPerSecond(), config.scrubPauseMs());
          scrubber.start();
          if (config.packCompactionIntervalMs() > 0) {
            compactionTimer = vertx.setPeriodic(config.packCompactionIntervalMs(), t -> store.compactPacks()
                .onFailure(e -> log.error("storage {}: pack compaction failed: {}", nodeId, e.getMessage())));
          }
        })
        .compose(s -> commands.completion());
  }

  @Override
  public Future<?> stop() {
    heap.close();
    if (scrubber != null) {
      scrubber.stop();
    }
    vertx.cancelTimer(compactionTimer);
    return client.close();
  }

  /** What the node agent's heartbeat reports: the store's figures, and whether new replicas are refused. */
  public Future<JsonObject> stats() {
    return store.stats().map(stats -> stats.put("heapFull", heap.pressed()));
  }

  private void requireHeapRoom() {
    if (heap.pressed()) {
      throw new DepotException(ErrorCode.INSUFFICIENT_MEMORY, "storage node " + nodeId + " refuses new replicas: "
          + heap.describe());
    }
  }

  private void requireClusterSecret(RoutingContext ctx) {
    String secret = config.clusterSecret();
    if (!secret.isEmpty() && !secret.equals(ctx.request().getHeader(Headers.CLUSTER_SECRET))) {
      fail(ctx.response(), new DepotException(ErrorCode.FORBIDDEN, "internal endpoint: cluster secret required"));
      return;
    }
    ctx.next();
  }

  private void receive(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause(); // the body must not arrive before the file is open
    String blobId = ctx.pathParam("blobId");
    long size;
    List<PipelineHop> downstream;
    int writeQuorum;
    String announcedSha256 = req.getHeader(Headers.SHA256);
    try {
      if (announcedSha256 != null && !SHA256_HEX.matcher(announcedSha256).matches()) {
        throw DepotException.badRequest(Headers.SHA256 + " must be 64 lower-case hex digits");
      }
      BlobIds.requireValid(blobId);
      requireHeapRoom();
      String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (length == null) {
        throw new DepotException(ErrorCode.LENGTH_REQUIRED, "Content-Length required");
      }
      size = Long.parseLong(length);
      downstream = PipelineHop.parse(req.getHeader(Headers.PIPELINE));
      writeQuorum = writeQuorum(req.getHeader(Headers.WRITE_QUORUM));
    } catch (NumberFormatException e) {
      fail(req.response(), DepotException.badRequest("malformed Content-Length"));
      return;
    } catch (DepotException e) {
      fail(req.response(), e);
      return;
    }
    writer.write(req, blobId, size, downstream, announcedSha256, req.getHeader(Headers.UPSTREAM) != null, writeQuorum)
        .onSuccess(result -> req.response().setStatusCode(201)
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(result.encode()))
        .onFailure(err -> {
          if (!req.isEnded()) {
            // The sender (a gateway or a storage node, which read an early answer) stops on it; the
            // connection is not reused.
            req.response().putHeader(HttpHeaders.CONNECTION, "close");
          }
          fail(req.response(), DepotException.from(err));
        });
  }

  /** Several small replicas in one body ({@link BlobBatch}), each reported on its own. */
  private void receiveBatch(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause();
    long length;
    List<PipelineHop> downstream;
    try {
      requireHeapRoom();
      String header = req.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (header == null) {
        throw new DepotException(ErrorCode.LENGTH_REQUIRED, "Content-Length required");
      }
      length = Long.parseLong(header);
      if (length < 0 || length > BlobBatch.MAX_BYTES) {
        throw DepotException.badRequest("a batch is at most " + BlobBatch.MAX_BYTES + " bytes");
      }
      downstream = PipelineHop.parse(req.getHeader(Headers.PIPELINE));
    } catch (NumberFormatException e) {
      failUnread(req, DepotException.badRequest("malformed Content-Length"));
      return;
    } catch (DepotException e) {
      failUnread(req, e);
      return;
    }
    batchWriter.write(req, length, downstream, req.getHeader(Headers.UPSTREAM) != null)
        .onSuccess(result -> req.response().setStatusCode(201)
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(result.encode()))
        .onFailure(err -> failUnread(req, DepotException.from(err)));
  }

  /**
   * A deposit's body sent by the client itself, on a link the gateway signed: this node heads the pipeline,
   * then commits the deposit with the coordinator and answers as the gateway would (201 with the record).
   */
  private void receiveDirect(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause();
    String blobId = ctx.pathParam("blobId");
    JsonObject deposit;
    JsonObject allocation;
    try {
      JsonObject ticket = uploadTickets.open(req.getParam("t"), req.getParam("sig"), blobId, System.currentTimeMillis());
      deposit = ticket.getJsonObject("deposit");
      allocation = ticket.getJsonObject("allocation");
      if (!nodeId.equals(allocation.getJsonArray("pipeline").getJsonObject(0).getString("nodeId"))) {
        throw new DepotException(ErrorCode.FORBIDDEN, "this upload link is for another storage node");
      }
      requireHeapRoom();
      String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
      if (length == null || !length.equals(String.valueOf(deposit.getLong("size")))) {
        throw new DepotException(ErrorCode.SIZE_MISMATCH,
            "Content-Length must be the announced size, " + deposit.getLong("size") + " bytes");
      }
      takeDirectUpload(blobId);
    } catch (DepotException e) {
      failUnread(req, e);
      return;
    }
    List<PipelineHop> downstream = PipelineHop.after(allocation.getJsonArray("pipeline"));
    if ("100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT))) {
      req.response().writeContinue();
    }
    writer.write(req, blobId, deposit.getLong("size"), downstream, deposit.getString("sha256"), false,
            allocation.getInteger("writeQuorum", 0))
        .compose(result -> DepositCommit.commit(leader, deposit, allocation, result))
        .onSuccess(record -> req.response().setStatusCode(201)
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .putHeader(HttpHeaders.ETAG, "\"" + record.getString("sha256") + "\"")
            .putHeader(HttpHeaders.LOCATION, "/api/v1/files/" + pathSegment(record.getString("name")))
            .end(record.encode()))
        .onFailure(err -> {
          DepositCommit.abort(vertx, allocation);
          failUnread(req, DepotException.from(err));
        });
  }

  /**
   * A link serves one upload. Used again while valid, it would write its blob again: once committed, the file's
   * replicas would be replaced by whatever the second body held, under the first one's SHA-256 in the catalog.
   * Held while the link is valid; after that the link is refused as expired, and a committed blob as present.
   */
  private void takeDirectUpload(String blobId) {
    if (store.has(blobId) || !directUploadsTaken.add(blobId)) {
      throw new DepotException(ErrorCode.CONFLICT, "this upload link has been used already; deposit again for a new one");
    }
    vertx.setTimer(UploadTickets.VALIDITY_MS + 5_000, t -> directUploadsTaken.remove(blobId));
  }

  /** {@link Headers#WRITE_QUORUM}: absent (0) on hops after the head and on repair copies. */
  private static int writeQuorum(String header) {
    if (header == null) {
      return 0;
    }
    try {
      int quorum = Integer.parseInt(header);
      if (quorum >= 0) {
        return quorum;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw DepotException.badRequest(Headers.WRITE_QUORUM + " must be a whole number of replicas");
  }

  private static String pathSegment(String name) {
    return java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }

  private void serveDirect(RoutingContext ctx) {
    if (signedLinkHolds(ctx)) {
      serve(ctx, false);
    }
  }

  /** Whether the request carries a valid download link to its blob; if not, it is answered 403. */
  private boolean signedLinkHolds(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (tickets.valid(ctx.pathParam("blobId"), req.getParam("exp"), req.getParam("sig"), System.currentTimeMillis())) {
      return true;
    }
    fail(req.response(), new DepotException(ErrorCode.FORBIDDEN, "this download link is invalid or has expired"));
    return false;
  }

  /**
   * Where a replica lies on this node's disk, with its chunk checksums, so that a client on this host reads the
   * file itself at the disk's speed (as HDFS's short-circuit reads) and checks every chunk as this node would.
   * Only with {@code localReads} on, and only through a signed link: the answer names a path on this host.
   */
  private void describeLocal(RoutingContext ctx) {
    if (!signedLinkHolds(ctx)) {
      return;
    }
    HttpServerRequest req = ctx.request();
    String blobId = ctx.pathParam("blobId");
    if (!config.localReads()) {
      fail(req.response(), new DepotException(ErrorCode.FORBIDDEN, "storage node " + nodeId
          + " does not offer local reads (localReads is off)"));
      return;
    }
    if (!BlobIds.isValid(blobId) || !store.has(blobId)) {
      fail(req.response(), DepotException.notFound("no replica " + blobId + " on " + nodeId));
      return;
    }
    if (store.isPacked(blobId)) {
      fail(req.response(), new DepotException(ErrorCode.CONFLICT, "replica " + blobId
          + " shares a pack file with others: read it over HTTP"));
      return;
    }
    store.manifest(blobId)
        .onSuccess(manifest -> ctx.json(manifest.toJson()
            .put("path", Path.of(store.dataPath(blobId)).toAbsolutePath().toString())))
        .onFailure(err -> fail(req.response(), DepotException.notFound("no replica " + blobId)));
  }

  /** Reads by the gateway (client retrieves, never throttled) and by peers pulling a repair copy (throttled). */
  private void serveInternal(RoutingContext ctx) {
    serve(ctx, ctx.request().getHeader(Headers.REPAIR) != null);
  }

  private void serve(RoutingContext ctx, boolean repair) {
    HttpServerRequest req = ctx.request();
    HttpServerResponse resp = req.response();
    String blobId = ctx.pathParam("blobId");
    if (!BlobIds.isValid(blobId) || !store.has(blobId)) {
      fail(resp, DepotException.notFound("no replica " + blobId + " on " + nodeId));
      return;
    }
    store.manifest(blobId).onFailure(err -> fail(resp, DepotException.notFound("no replica " + blobId)))
        .onSuccess(manifest -> {
          ByteRange range;
          try {
            range = ByteRange.parse(req.getHeader("Range"), manifest.size());
          } catch (DepotException e) {
            resp.putHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + manifest.size());
            fail(resp, e);
            return;
          }
          resp.putHeader(Headers.SHA256, manifest.sha256());
          resp.putHeader(HttpHeaders.ACCEPT_RANGES, "bytes");
          if (range.partial()) {
            resp.setStatusCode(206).putHeader(HttpHeaders.CONTENT_RANGE, range.contentRange(manifest.size()));
          }
          resp.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(range.length()));
          if (req.method() == HttpMethod.HEAD || range.length() == 0) {
            resp.end();
            return;
          }
          if (repair) {
            repairsOut++;
          }
          reader.send(manifest, range.first(), range.last(), resp, repair ? repairThrottle : null)
              .onComplete(ar -> {
                if (repair) {
                  repairsOut--;
                  repairBytesOut += ar.succeeded() ? range.length() : 0;
                }
              })
              .onSuccess(v -> resp.end())
              .onFailure(err -> {
                if (err instanceof CorruptReplicaException corrupt) {
                  log.error("{} on {}: connection cut, coordinator told", corrupt.getMessage(), nodeId);
                  vertx.eventBus().send(Addresses.COORDINATOR_REPLICA_CORRUPT,
                      new JsonObject().put("node", nodeId).put("blobId", blobId).put("chunk", corrupt.chunk()));
                } else {
                  log.warn("reading replica {} failed: {}", blobId, err.getMessage());
                }
                // Headers are gone: cutting the connection is the only way to say "these bytes are wrong".
                resp.reset();
              });
        });
  }

  private void command(Message<Object> msg) {
    Future<JsonObject> result;
    try {
      if (!(msg.body() instanceof JsonObject body)) {
        throw DepotException.badRequest("expected a JSON object");
      }
      String action = body.getString("action");
      result = switch (action == null ? "" : action) {
        case "delete" -> delete(body);
        case "replicate" -> replicate(body);
        case "inventory" -> inventory(body.getJsonArray("buckets"));
        case "inventoryDigest" -> inventoryDigest();
        case "stats" -> store.stats().map(st -> st.mergeIn(scrubber.stats()).mergeIn(repairStats()));
        default -> Future.failedFuture(DepotException.badRequest("unknown storage action '" + action + "'"));
      };
    } catch (DepotException e) {
      result = Future.failedFuture(e);
    } catch (RuntimeException e) {
      result = Future.failedFuture(DepotException.badRequest("malformed storage command: " + e.getMessage()));
    }
    result.onSuccess(msg::reply).onFailure(err -> DepotException.from(err).replyTo(msg));
  }

  private Future<JsonObject> delete(JsonObject body) {
    JsonArray ids = body.getJsonArray("blobIds");
    if (ids == null) {
      throw DepotException.badRequest("'blobIds' required");
    }
    List<Future<Boolean>> deletions = ids.stream().map(String::valueOf).map(BlobIds::requireValid)
        .map(store::delete).toList();
    return Future.all(deletions).map(v -> new JsonObject().put("deleted", ids.size()));
  }

  /** Pulls a replica from a peer over HTTP (node to node), verifying its checksums as it lands. */
  private Future<JsonObject> replicate(JsonObject body) {
    String blobId = BlobIds.requireValid(body.getString("blobId"));
    String sha256 = body.getString("sha256");
    JsonArray sources = body.getJsonArray("sources", new JsonArray());
    if (store.has(blobId)) {
      return Future.succeededFuture(new JsonObject().put("node", nodeId).put("sha256", sha256).put("already", true));
    }
    Future<JsonObject> running = pulling.get(blobId);
    if (running != null) {
      return running;
    }
    repairsIn++;
    Future<JsonObject> pull = tryPull(blobId, sha256, sources, 0).onComplete(ar -> {
      repairsIn--;
      pulling.remove(blobId);
    });
    if (!pull.isComplete()) {
      pulling.put(blobId, pull);
    }
    return pull;
  }

  /** Repair copies this node is sending and receiving now, and the bytes it has sent of them. */
  private JsonObject repairStats() {
    return new JsonObject().put("repairsOut", repairsOut).put("repairsIn", repairsIn)
        .put("repairBytesOut", repairBytesOut);
  }

  private Future<JsonObject> tryPull(String blobId, String sha256, JsonArray sources, int index) {
    if (index >= sources.size()) {
      return Future.failedFuture(new DepotException(ErrorCode.UNAVAILABLE, "no source could provide " + blobId));
    }
    String source = sources.getString(index);
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setAbsoluteURI(source + "/internal/v1/blobs/" + blobId)
        .putHeader(Headers.CLUSTER_SECRET, config.clusterSecret())
        .putHeader(Headers.REPAIR, "1")
        .setIdleTimeout(30_000);
    return client.request(options)
        .compose(req -> req.send())
        .compose(resp -> {
          if (resp.statusCode() != 200) {
            return Future.failedFuture(new DepotException(ErrorCode.UNAVAILABLE, source + " answered " + resp.statusCode()));
          }
          resp.pause();
          long size = Long.parseLong(resp.getHeader(HttpHeaders.CONTENT_LENGTH));
          return writer.write(resp, blobId, size, List.of());
        })
        .compose(result -> {
          if (sha256 != null && !sha256.equals(result.getString("sha256"))) {
            return store.delete(blobId).compose(v -> Future.failedFuture(
                new DepotException(ErrorCode.HASH_MISMATCH, "copy of " + blobId + " from " + source + " has the wrong hash")));
          }
          return Future.succeededFuture(new JsonObject().put("node", nodeId).put("sha256", result.getString("sha256")));
        })
        .recover(err -> {
          log.warn("pulling {} from {} failed: {}", blobId, source, err.getMessage());
          return tryPull(blobId, sha256, sources, index + 1);
        });
  }

  /** The replicas held, all or those in some {@link InventoryDigest} buckets, and the ones stored lately. */
  private Future<JsonObject> inventory(JsonArray buckets) {
    boolean[] wanted = new boolean[InventoryDigest.BUCKETS];
    if (buckets == null) {
      java.util.Arrays.fill(wanted, true);
    } else {
      for (Object b : buckets) {
        if (!(b instanceof Integer bucket) || bucket < 0 || bucket >= InventoryDigest.BUCKETS) {
          throw DepotException.badRequest("buckets are numbers from 0 to " + (InventoryDigest.BUCKETS - 1));
        }
        wanted[bucket] = true;
      }
    }
    return vertx.executeBlocking(() -> inBuckets(store::forEachBlobId, wanted), false).compose(blobs -> {
      // Replicas of the last minutes are named apart: their deposit may still be on its way to the catalog.
      // Taken after the listing, so every replica listed and stored lately is among them; only those in the
      // buckets asked for (at a thousand deposits a second the whole list is 300,000 ids).
      return vertx.executeBlocking(() -> inBuckets(store::forEachRecentlyStored, wanted), false)
          .map(recentInBuckets -> new JsonObject().put("node", nodeId).put("blobIds", blobs).put("recent", recentInBuckets));
    });
  }

  /** The ids {@code source} gives that fall in the buckets wanted, each once; only those become strings. */
  private static JsonArray inBuckets(Consumer<Consumer<UUID>> source, boolean[] wanted) {
    Set<UUID> in = new HashSet<>();
    source.accept(id -> {
      if (wanted[InventoryDigest.bucketOf(id)]) {
        in.add(id);
      }
    });
    JsonArray ids = new JsonArray();
    in.forEach(id -> ids.add(id.toString()));
    return ids;
  }

  private Future<JsonObject> inventoryDigest() {
    return vertx.executeBlocking(() -> {
      InventoryDigest digest = new InventoryDigest();
      store.forEachBlobId(digest::add);
      return new JsonObject().put("node", nodeId).put("digest", digest.encode());
    }, false);
  }

  static Future<Void> fail(HttpServerResponse resp, DepotException e) {
    if (resp.headWritten()) {
      return resp.reset();
    }
    return resp.setStatusCode(e.code().httpStatus())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(e.toJson().encode());
  }

  /** A failure answered to a client that may still be sending its body ({@link UnreadBody}). */
  private static void failUnread(HttpServerRequest req, DepotException e) {
    UnreadBody.answer(req, resp -> fail(resp, e));
  }
}
