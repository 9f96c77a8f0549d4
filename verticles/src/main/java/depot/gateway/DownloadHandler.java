package depot.gateway;

import depot.config.DepotConfig;
import depot.protocol.ByteRange;
import depot.protocol.DepotException;
import depot.protocol.SignedLinks;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET|HEAD /api/v1/files/{name}}: streams the bytes from a live replica with backpressure. If a
 * replica fails or turns out corrupt mid-stream, the transfer continues from the same offset on the
 * next replica, so the client never notices and never receives a wrong byte.
 */
final class DownloadHandler {
  private static final Logger log = LoggerFactory.getLogger(DownloadHandler.class);

  private final DepotConfig config;
  private final HttpClient client;
  private final SignedLinks tickets;

  DownloadHandler(DepotConfig config, HttpClient client, SignedLinks tickets) {
    this.config = config;
    this.client = client;
    this.tickets = tickets;
  }

  /** {@code located}: the coordinator's answer to file.locate. */
  void send(RoutingContext ctx, JsonObject located) {
    JsonObject record = located.getJsonObject("record");
    JsonArray sources = located.getJsonArray("sources");
    long size = record.getLong("size");
    String etag = "\"" + record.getString("sha256") + "\"";
    HttpServerResponse resp = ctx.response();
    resp.putHeader(HttpHeaders.ETAG, etag)
        .putHeader(Headers.SHA256, record.getString("sha256"))
        .putHeader(Headers.VERSION, Long.toString(record.getLong("version")))
        .putHeader(HttpHeaders.ACCEPT_RANGES, "bytes")
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
    if (Preconditions.noneMatchHits(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH), etag)) {
      resp.setStatusCode(304).end();
      return;
    }
    String rangeHeader = Preconditions.rangeHolds(ctx.request().getHeader("If-Range"), etag)
        ? ctx.request().getHeader("Range") : null;
    ByteRange range;
    try {
      range = size == 0 && rangeHeader == null ? new ByteRange(0, -1, false) : ByteRange.parse(rangeHeader, size);
    } catch (DepotException e) {
      resp.putHeader(HttpHeaders.CONTENT_RANGE, "bytes */" + size);
      ApiResponses.fail(ctx, e);
      return;
    }
    if (range.partial()) {
      resp.setStatusCode(206).putHeader(HttpHeaders.CONTENT_RANGE, range.contentRange(size));
    }
    resp.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(range.length()));
    if (ctx.request().method() == HttpMethod.HEAD || range.length() == 0) {
      resp.end();
      return;
    }
    if (sources.isEmpty()) {
      ApiResponses.fail(ctx, new DepotException(ErrorCode.UNAVAILABLE, "no live replica of this file right now"));
      return;
    }
    String blobId = located.getString("blobId");
    if (wantsDirect(ctx) && !range.partial()) {
      // The client reads from a storage node itself; if that fails it comes back here without ?direct.
      SocketAddress caller = ctx.request().remoteAddress();
      JsonObject nearest = nearestFirst(sources, caller == null ? null : caller.hostAddress()).getJsonObject(0);
      String blobUrl = nearest.getString("url") + "/direct/v1/blobs/" + blobId;
      String query = "?" + tickets.query(blobId, System.currentTimeMillis());
      if (config.localReads()) {
        resp.putHeader(Headers.LOCAL_READ, blobUrl + "/local" + query);
      }
      resp.setStatusCode(307).putHeader(HttpHeaders.LOCATION, blobUrl + query).putHeader(HttpHeaders.CONTENT_LENGTH, "0")
          .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end();
      return;
    }
    new Transfer(resp, blobId, sources, range.first(), range.last()).next(0)
        .onSuccess(v -> resp.end())
        .onFailure(err -> {
          log.error("retrieve of blob {} failed: {}", blobId, err.getMessage());
          ApiResponses.fail(ctx, err);
        });
  }

  /**
   * The sources with those on the caller's own host first, as HDFS sorts a block's locations by distance to the
   * reader: a direct read then crosses no network, and a local read finds the replica's file on that host.
   */
  static JsonArray nearestFirst(JsonArray sources, String callerHost) {
    List<Object> near = new ArrayList<>();
    List<Object> far = new ArrayList<>();
    for (Object source : sources) {
      String host = URI.create(((JsonObject) source).getString("url")).getHost();
      (host != null && host.equals(callerHost) ? near : far).add(source);
    }
    near.addAll(far);
    return new JsonArray(near);
  }

  private static boolean wantsDirect(RoutingContext ctx) {
    String direct = ctx.request().getParam("direct");
    return "1".equals(direct) || "true".equalsIgnoreCase(direct);
  }

  private final class Transfer {
    private final HttpServerResponse out;
    private final String blobId;
    private final JsonArray sources;
    private final long last;
    private long offset;

    Transfer(HttpServerResponse out, String blobId, JsonArray sources, long first, long last) {
      this.out = out;
      this.blobId = blobId;
      this.sources = sources;
      this.offset = first;
      this.last = last;
    }

    /** Copies [offset, last] from source {@code index}; on failure moves on to the next source. */
    Future<Void> next(int index) {
      if (index >= sources.size()) {
        return Future.failedFuture(new DepotException(ErrorCode.UNAVAILABLE,
            "every replica failed; " + offset + " bytes were sent"));
      }
      JsonObject source = sources.getJsonObject(index);
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
          .setAbsoluteURI(source.getString("url") + "/internal/v1/blobs/" + blobId)
          .putHeader("Range", "bytes=" + offset + "-" + last)
          .putHeader(Headers.CLUSTER_SECRET, config.clusterSecret())
          .setIdleTimeout(30_000);
      Promise<Void> done = Promise.promise();
      client.request(options).compose(r -> r.send()).onComplete(ar -> {
        if (ar.failed() || ar.result().statusCode() != 206) {
          String why = ar.failed() ? ar.cause().getMessage() : "status " + ar.result().statusCode();
          log.warn("replica {} on {} unavailable ({}); trying the next", blobId, source.getString("nodeId"), why);
          if (ar.succeeded()) {
            ar.result().request().reset();
          }
          next(index + 1).onComplete(done);
          return;
        }
        var in = ar.result();
        boolean[] over = {false};
        in.handler(buf -> {
          offset += buf.length();
          out.write(buf);
          if (out.writeQueueFull()) {
            in.pause();
            out.drainHandler(v -> in.resume());
          }
        });
        in.exceptionHandler(err -> {
          if (over[0]) {
            return;
          }
          over[0] = true;
          log.warn("replica {} on {} failed at byte {} ({}); continuing from another", blobId,
              source.getString("nodeId"), offset, err.getMessage());
          in.handler(null);
          next(index + 1).onComplete(done);
        });
        in.endHandler(v -> {
          if (over[0]) {
            return;
          }
          over[0] = true;
          if (offset == last + 1) {
            done.tryComplete();
          } else {
            next(index + 1).onComplete(done);
          }
        });
      });
      return done.future();
    }
  }
}
