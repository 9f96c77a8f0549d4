package depot.gateway;

import depot.config.DepotConfig;
import depot.protocol.Addresses;
import depot.protocol.DepositCommit;
import depot.protocol.LeaderRequests;
import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import depot.protocol.NodeUrls;
import depot.protocol.SuspectReport;
import depot.protocol.UploadTickets;
import depot.storage.PipelineHop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * {@code PUT /api/v1/files/{name}}: allocate, stream, commit. The body flows straight into the first
 * replica's node, which forwards it along the pipeline; nothing is buffered here beyond the socket's
 * write queue, except a small body (at most {@link DepotConfig#batchedDepositMaxBytes()}), which is read
 * whole and travels in a batch ({@link DepositBatcher}). A wrong hash, a short body or too few durable
 * replicas leaves no file behind.
 */
final class UploadHandler {
  private static final Logger log = LoggerFactory.getLogger(UploadHandler.class);
  private static final int PLACEMENT_ATTEMPTS = 3;
  private static final String CLIENT_GONE = "depot.upload.client-gone";
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");
  /** Marks the outcome of a direct deposit: not a record but the link to send the body to. */
  private static final String REDIRECT = "depot.upload.redirect";
  private static final int MAX_AVOIDED = 16;

  private final Vertx vertx;
  private final DepotConfig config;
  private final LeaderRequests leader;
  private final HttpClient client;
  private final Authenticator auth;
  private final UploadTickets uploadTickets;
  private final DepositBatcher batcher;

  UploadHandler(Vertx vertx, DepotConfig config, HttpClient client, Authenticator auth, LeaderRequests leader,
                UploadTickets uploadTickets) {
    this.vertx = vertx;
    this.uploadTickets = uploadTickets;
    this.leader = leader;
    this.config = config;
    this.client = client;
    this.auth = auth;
    this.batcher = new DepositBatcher(client, config);
  }

  void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause(); // hold the body until we know where it goes
    // A client that hangs up while we are still deciding must not leave the storage nodes waiting.
    req.exceptionHandler(err -> ctx.put(CLIENT_GONE, err));
    Upload upload;
    try {
      upload = parse(ctx);
    } catch (DepotException e) {
      ApiResponses.fail(req, e);
      return;
    }
    auth.authenticate(ctx)
        .compose(caller -> {
          if (caller.admin()) {
            return Future.failedFuture(new DepotException(ErrorCode.FORBIDDEN,
                "deposit with a client token; the admin token owns no files"));
          }
          upload.owner = caller.clientId();
          return deposit(ctx, upload, 0);
        })
        .onSuccess(record -> {
          if (record.containsKey(REDIRECT)) {
            // Before the body: the client sends it to the link instead (and no byte of it came here).
            ctx.response().setStatusCode(307).putHeader(HttpHeaders.LOCATION, record.getString(REDIRECT))
                .putHeader(HttpHeaders.CONNECTION, "close").end();
            return;
          }
          boolean deduplicated = record.getBoolean("deduplicated", false);
          ctx.response().putHeader(HttpHeaders.LOCATION, req.path())
              .putHeader(HttpHeaders.ETAG, "\"" + record.getString("sha256") + "\"");
          if (deduplicated) {
            ctx.response().putHeader(Headers.DEDUP, "true");
          }
          ApiResponses.json(ctx, 201, record);
        })
        .onFailure(err -> ApiResponses.fail(ctx, err));
  }

  private static final class Upload {
    String owner;
    String name;
    long size;
    Integer replicas;
    String sha256;
    /** Storage nodes (base URLs) the client lost in an earlier try ({@link Headers#AVOID}). */
    List<String> avoid = List.of();
    /** Nodes found unreachable while placing this deposit. */
    final java.util.Set<String> excluded = new java.util.LinkedHashSet<>();
    boolean expectContinue;
    /** {@code ?direct=1}: the client would rather send the body straight to the pipeline's head. */
    boolean direct;
    /** A small body, once read: it travels in a batch, and may be placed again if its head is lost. */
    Buffer body;
  }

  private Upload parse(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    Upload u = new Upload();
    u.name = FileNameSegment.of(ctx);
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length == null) {
      throw new DepotException(ErrorCode.LENGTH_REQUIRED, "Content-Length is required (chunked uploads are not accepted)");
    }
    try {
      u.size = Long.parseLong(length);
    } catch (NumberFormatException e) {
      throw DepotException.badRequest("malformed Content-Length");
    }
    String replicas = req.getParam("replicas");
    if (replicas != null) {
      try {
        u.replicas = Integer.parseInt(replicas);
      } catch (NumberFormatException e) {
        throw new DepotException(ErrorCode.INVALID_REPLICAS, "replicas must be a whole number");
      }
    }
    String sha = req.getHeader(Headers.SHA256);
    if (sha != null) {
      if (!SHA256_HEX.matcher(sha).matches()) {
        throw DepotException.badRequest(Headers.SHA256 + " must be 64 hex digits");
      }
      u.sha256 = sha.toLowerCase(Locale.ROOT);
    }
    u.avoid = avoided(req.getHeader(Headers.AVOID));
    String expect = req.getHeader(HttpHeaders.EXPECT);
    u.expectContinue = expect != null && expect.equalsIgnoreCase("100-continue");
    // Only a client that waits for "100 Continue" can be sent elsewhere before its body is on the way.
    u.direct = u.expectContinue && "1".equals(req.getParam("direct"));
    return u;
  }

  /** {@link Headers#AVOID}: a few node URLs, each checked here so a bad one is the client's error. */
  private static List<String> avoided(String header) {
    if (header == null || header.isBlank()) {
      return List.of();
    }
    String[] urls = header.split(",");
    if (urls.length > MAX_AVOIDED || header.length() > MAX_AVOIDED * 300) {
      throw DepotException.badRequest(Headers.AVOID + " names at most " + MAX_AVOIDED + " storage nodes");
    }
    List<String> origins = new java.util.ArrayList<>();
    for (String url : urls) {
      try {
        origins.add(NodeUrls.origin(url));
      } catch (IllegalArgumentException e) {
        throw DepotException.badRequest(Headers.AVOID + " must list storage node URLs: " + e.getMessage());
      }
    }
    return origins;
  }

  private JsonObject describe(Upload u) {
    JsonObject body = new JsonObject().put("owner", u.owner).put("name", u.name).put("size", u.size);
    if (u.replicas != null) {
      body.put("replicas", u.replicas);
    }
    if (u.sha256 != null) {
      body.put("sha256", u.sha256);
    }
    if (!u.avoid.isEmpty()) {
      body.put("avoid", new JsonArray(u.avoid));
    }
    if (!u.excluded.isEmpty()) {
      body.put("exclude", new JsonArray(new java.util.ArrayList<>(u.excluded)));
    }
    return body;
  }

  /**
   * Begins the deposit with the coordinator (dedup or allocation) and streams it. A pipeline head that
   * cannot be reached (it died after its last heartbeat) costs no body byte: the deposit is placed again
   * without that node, up to {@link #PLACEMENT_ATTEMPTS} times.
   */
  private Future<JsonObject> deposit(RoutingContext ctx, Upload u, int attempt) {
    return leader.<JsonObject>request(Addresses.COORDINATOR_DEPOSIT_BEGIN, describe(u), 10_000)
        .recover(err -> Future.failedFuture(DepotException.from(err)))
        .compose(begun -> {
          JsonObject held = begun.body().getJsonObject("record");
          if (held != null) {
            return Future.succeededFuture(held);
          }
          JsonObject allocation = begun.body().getJsonObject("allocation");
          JsonObject head = allocation.getJsonArray("pipeline").getJsonObject(0);
          if (u.direct) {
            // WebHDFS-style two-step create: the head finishes the deposit itself, the gateway hop is spared.
            String link = head.getString("url") + "/direct/v1/uploads/" + allocation.getString("blobId") + "?"
                + uploadTickets.query(describe(u), allocation, System.currentTimeMillis());
            return Future.succeededFuture(new JsonObject().put(REDIRECT, link));
          }
          String nodeId = head.getString("nodeId");
          if (batcher.takes(u.size)) {
            return bodyOf(ctx, u)
                .onFailure(err -> DepositCommit.abort(vertx, allocation))
                .compose(body -> batched(ctx, u, allocation, body, attempt));
          }
          return client.request(headRequest(u, allocation)).transform(opened -> {
            if (opened.succeeded()) {
              return pipe(ctx, u, opened.result(), err -> reportSuspect(nodeId, err))
                  .compose(result -> commit(u, allocation, result))
                  .recover(err -> {
                    DepositCommit.abort(vertx, allocation);
                    return Future.failedFuture(err);
                  });
            }
            DepositCommit.abort(vertx, allocation);
            return reportSuspect(nodeId, opened.cause()).compose(reported -> {
              if (attempt + 1 >= PLACEMENT_ATTEMPTS) {
                return Future.failedFuture(new DepotException(ErrorCode.UNAVAILABLE,
                    "storage node " + nodeId + " unreachable: " + opened.cause().getMessage()));
              }
              log.warn("storage node {} unreachable ({}); placing '{}' again without it", nodeId,
                  opened.cause().getMessage(), u.name);
              u.excluded.add(nodeId);
              return deposit(ctx, u, attempt + 1);
            });
          });
        });
  }

  /**
   * A small deposit goes down its pipeline in a batch with others ({@link DepositBatcher}). Its body is held
   * here, so a head that gives no answer costs the client nothing: the deposit is placed again without it.
   */
  private Future<JsonObject> batched(RoutingContext ctx, Upload u, JsonObject allocation, Buffer body, int attempt) {
    String nodeId = allocation.getJsonArray("pipeline").getJsonObject(0).getString("nodeId");
    return batcher.send(allocation, u.sha256, body).transform(sent -> {
      if (sent.succeeded()) {
        return commit(u, allocation, sent.result()).recover(err -> {
          DepositCommit.abort(vertx, allocation);
          return Future.failedFuture(err);
        });
      }
      DepositCommit.abort(vertx, allocation);
      if (!(sent.cause() instanceof DepositBatcher.HeadLost)) {
        return Future.failedFuture(sent.cause());
      }
      return reportSuspect(nodeId, sent.cause()).compose(reported -> {
        if (attempt + 1 >= PLACEMENT_ATTEMPTS) {
          return Future.failedFuture(new DepotException(ErrorCode.UNAVAILABLE,
              "storage node " + nodeId + " unreachable: " + sent.cause().getMessage()));
        }
        log.warn("storage node {} lost ({}); placing '{}' again without it", nodeId, sent.cause().getMessage(), u.name);
        u.excluded.add(nodeId);
        return deposit(ctx, u, attempt + 1);
      });
    });
  }

  /** Reads a small body whole (at most {@link DepotConfig#batchedDepositMaxBytes()}), exactly Content-Length bytes. */
  private Future<Buffer> bodyOf(RoutingContext ctx, Upload u) {
    if (u.body != null) {
      return Future.succeededFuture(u.body);
    }
    if (ctx.get(CLIENT_GONE) != null) {
      return Future.failedFuture(new DepotException(ErrorCode.SIZE_MISMATCH, "the client went away before sending the body"));
    }
    HttpServerRequest req = ctx.request();
    Promise<Buffer> read = Promise.promise();
    Buffer body = Buffer.buffer((int) u.size);
    req.handler(buf -> {
      if (body.length() + buf.length() > u.size) {
        read.tryFail(new DepotException(ErrorCode.SIZE_MISMATCH, "more than the announced " + u.size + " bytes"));
      } else {
        body.appendBuffer(buf);
      }
    });
    req.endHandler(v -> {
      if (body.length() == u.size) {
        read.tryComplete(body);
      } else {
        read.tryFail(new DepotException(ErrorCode.SIZE_MISMATCH, "expected " + u.size + " bytes, received " + body.length()));
      }
    });
    req.exceptionHandler(err -> read.tryFail(
        new DepotException(ErrorCode.SIZE_MISMATCH, "upload ended before Content-Length bytes arrived")));
    if (u.expectContinue) {
      ctx.response().writeContinue();
    }
    req.resume();
    return read.future().onSuccess(b -> u.body = b);
  }

  /** The coordinator places the next deposits (the client's retry among them) elsewhere for a while. */
  private Future<Void> reportSuspect(String nodeId, Throwable err) {
    return SuspectReport.send(vertx, nodeId, "the gateway lost its connection to it: " + err.getMessage());
  }

  private RequestOptions headRequest(Upload u, JsonObject allocation) {
    JsonArray pipeline = allocation.getJsonArray("pipeline");
    JsonObject head = pipeline.getJsonObject(0);
    List<PipelineHop> rest = PipelineHop.after(pipeline);
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.PUT)
        .setAbsoluteURI(head.getString("url") + "/internal/v1/blobs/" + allocation.getString("blobId"))
        .putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(u.size))
        .putHeader(Headers.PIPELINE, PipelineHop.format(rest))
        .putHeader(Headers.CLUSTER_SECRET, config.clusterSecret())
        .putHeader(Headers.WRITE_QUORUM, String.valueOf(allocation.getInteger("writeQuorum")))
        .setIdleTimeout(60_000);
    if (u.sha256 != null) {
      // The head hashes the content; the replicas after it take this value once their chunks match the head's.
      options.putHeader(Headers.SHA256, u.sha256);
    }
    return options;
  }

  /**
   * Streams the body to the head of the pipeline with backpressure; completes with the nodes' report.
   * {@code headBroke} is told if the connection to the head failed (as opposed to the head answering an error).
   */
  private Future<JsonObject> pipe(RoutingContext ctx, Upload u, HttpClientRequest storage,
                                  Function<Throwable, Future<Void>> headBroke) {
    HttpServerRequest req = ctx.request();
    Promise<JsonObject> done = Promise.promise();
    if (ctx.get(CLIENT_GONE) != null) {
      storage.reset();
      return Future.failedFuture(new DepotException(ErrorCode.SIZE_MISMATCH, "the client went away before sending the body"));
    }
    relay(req, storage, done, headBroke);
    if (u.expectContinue) {
      ctx.response().writeContinue();
    }
    req.resume();
    return done.future();
  }

  private void relay(HttpServerRequest req, HttpClientRequest storage, Promise<JsonObject> done,
                     Function<Throwable, Future<Void>> headBroke) {
    // A head that answered (an early 503 from a lost quorum, say) and then closed is not a broken node.
    boolean[] answered = {false};
    storage.response().onSuccess(resp -> answered[0] = true);
    // The client hears of the failure only once the coordinator has taken the suspicion, so that its retry
    // cannot be placed on the broken head again (the failure's answer goes out within tryFail).
    boolean[] reporting = {false};
    Consumer<Throwable> lost = err -> {
      if (done.future().isComplete() || reporting[0]) {
        return;
      }
      DepotException failure = new DepotException(ErrorCode.UNAVAILABLE, "storage pipeline failed: " + err.getMessage());
      if (answered[0]) {
        done.tryFail(failure);
        return;
      }
      reporting[0] = true;
      headBroke.apply(err).onComplete(reported -> done.tryFail(failure));
    };
    storage.exceptionHandler(lost::accept);
    storage.response()
        .compose(resp -> resp.body().map(body -> {
          if (resp.statusCode() != 201) {
            throw DepotException.from(new io.vertx.core.eventbus.ReplyException(
                io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE, resp.statusCode(), body.toString()));
          }
          return body.toJsonObject();
        }))
        .onSuccess(done::tryComplete)
        // A node of the pipeline that dies mid-stream closes the connection: the deposit is unavailable, not broken.
        .onFailure(err -> {
          if (err instanceof DepotException) {
            done.tryFail(err);
          } else {
            lost.accept(err);
          }
        });
    req.handler(buf -> {
      storage.write(buf);
      if (storage.writeQueueFull()) {
        req.pause();
        storage.drainHandler(v -> req.resume());
      }
    });
    req.endHandler(v -> storage.end());
    req.exceptionHandler(err -> {
      // The client went away mid-body: make the storage nodes throw their partial copies away. Failed first,
      // so the reset's own error is not taken for a broken storage node.
      done.tryFail(new DepotException(ErrorCode.SIZE_MISMATCH, "upload ended before Content-Length bytes arrived"));
      storage.reset();
    });
  }

  private Future<JsonObject> commit(Upload u, JsonObject allocation, JsonObject result) {
    return DepositCommit.commit(leader, describe(u), allocation, result);
  }
}
