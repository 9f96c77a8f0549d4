package depot.storage;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;

/**
 * Receives one replica from a stream and, while writing it, forwards the same bytes to the next node of
 * the pipeline (no store-and-forward). Backpressure runs end to end: the source pauses while either the
 * local sink or the downstream connection is full. The local copy is durable before this node answers;
 * a failing downstream does not fail the local copy, it is reported.
 */
public final class BlobWriter {
  private static final Logger log = LoggerFactory.getLogger(BlobWriter.class);

  private final Vertx vertx;
  private final BlobStore store;
  private final HttpClient client;
  private final String nodeId;
  private final int chunkSize;
  private final long smallBlobMax;
  private final String clusterSecret;

  public BlobWriter(Vertx vertx, BlobStore store, HttpClient client, String nodeId, int chunkSize, long smallBlobMax,
                    String clusterSecret) {
    this.vertx = vertx;
    this.store = store;
    this.client = client;
    this.nodeId = nodeId;
    this.chunkSize = chunkSize;
    this.smallBlobMax = smallBlobMax;
    this.clusterSecret = clusterSecret;
  }

  /**
   * Writes {@code size} bytes from {@code source} (paused by the caller) as replica {@code blobId}.
   * Completes with {@code {"sha256", "size", "stored": [{"node","sha256"}], "failed": [{"node","error"}]}}.
   */
  public Future<JsonObject> write(ReadStream<Buffer> source, String blobId, long size, List<PipelineHop> downstream) {
    ReplicaSink sink = size <= smallBlobMax ? new PackedSink(store, size) : new FileSink(vertx, store, blobId);
    return new Transfer(source, blobId, size, downstream, sink).run();
  }

  /** Opens the request to the next hop, handing it the rest of the pipeline. */
  private Future<HttpClientRequest> openDownstream(String blobId, long size, List<PipelineHop> downstream) {
    PipelineHop next = downstream.get(0);
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.PUT)
        .setAbsoluteURI(next.url() + "/internal/v1/blobs/" + blobId)
        .putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size))
        .putHeader(Headers.PIPELINE, PipelineHop.format(downstream.subList(1, downstream.size())))
        .putHeader(Headers.CLUSTER_SECRET, clusterSecret)
        .setIdleTimeout(30_000);
    return client.request(options);
  }

  private final class Transfer {
    private final ReadStream<Buffer> source;
    private final String blobId;
    private final long size;
    private final List<PipelineHop> downstream;
    private final ReplicaSink sink;
    private final StreamDigest digest = new StreamDigest(chunkSize);
    private final Promise<JsonObject> done = Promise.promise();
    private final JsonArray failed = new JsonArray();
    private final Promise<JsonArray> downstreamStored = Promise.promise();
    private HttpClientRequest down;
    private boolean downAlive;
    private boolean paused = true;
    private boolean finished;
    private long received;

    Transfer(ReadStream<Buffer> source, String blobId, long size, List<PipelineHop> downstream, ReplicaSink sink) {
      this.source = source;
      this.blobId = blobId;
      this.size = size;
      this.downstream = downstream;
      this.sink = sink;
    }

    Future<JsonObject> run() {
      // Set at once: a sender that vanishes while the file and the next hop are still opening must be seen.
      source.exceptionHandler(this::fail);
      Future<Void> opened = sink.open();
      Future<HttpClientRequest> forwarded = downstream.isEmpty()
          ? Future.succeededFuture()
          : openDownstream(blobId, size, downstream).recover(err -> {
            downstreamFailed(err);
            return Future.succeededFuture();
          });
      Future.join(opened, forwarded).onComplete(ar -> {
        if (done.future().isComplete()) {
          // The sender failed meanwhile: release what was opened.
          if (forwarded.result() != null) {
            forwarded.result().reset();
          }
          sink.abort();
          return;
        }
        if (opened.failed()) {
          if (forwarded.result() != null) {
            forwarded.result().reset();
          }
          fail(opened.cause());
          return;
        }
        down = forwarded.result();
        start();
      });
      return done.future();
    }

    private void start() {
      sink.exceptionHandler(this::fail);
      sink.drainHandler(this::maybeResume);
      if (down != null) {
        downAlive = true;
        down.drainHandler(v -> maybeResume());
        down.exceptionHandler(this::downstreamFailed);
        down.response()
            .compose(resp -> resp.body().map(body -> {
              if (resp.statusCode() != 201) {
                throw new DepotException(ErrorCode.UNAVAILABLE, "downstream answered " + resp.statusCode() + ": " + body);
              }
              return body.toJsonObject();
            }))
            .onSuccess(reply -> {
              reply.getJsonArray("failed", new JsonArray()).forEach(failed::add);
              downstreamStored.tryComplete(reply.getJsonArray("stored", new JsonArray()));
            })
            .onFailure(this::downstreamFailed);
      } else {
        downstreamStored.tryComplete(new JsonArray());
      }
      source.handler(this::onData);
      source.exceptionHandler(this::fail);
      source.endHandler(v -> onEnd());
      paused = false;
      source.resume();
    }

    private void onData(Buffer buf) {
      if (finished) {
        return;
      }
      received += buf.length();
      if (received > size) {
        fail(new DepotException(ErrorCode.SIZE_MISMATCH, "more than the announced " + size + " bytes"));
        return;
      }
      digest.update(buf);
      sink.write(buf);
      if (downAlive) {
        down.write(buf);
      }
      if (sink.full() || (downAlive && down.writeQueueFull())) {
        paused = true;
        source.pause();
      }
    }

    private void maybeResume() {
      if (paused && !finished && !sink.full() && !(downAlive && down.writeQueueFull())) {
        paused = false;
        source.resume();
      }
    }

    private void downstreamFailed(Throwable err) {
      if (downstreamStored.future().isComplete()) {
        return;
      }
      String hop = downstream.get(0).nodeId();
      log.warn("pipeline hop {} failed for blob {}: {}", hop, blobId, err.getMessage());
      failed.add(new JsonObject().put("node", hop).put("error", String.valueOf(err.getMessage())));
      boolean wasAlive = downAlive;
      downAlive = false;
      if (wasAlive && down != null) {
        down.reset();
      }
      downstreamStored.tryComplete(new JsonArray());
      maybeResume();
    }

    private void onEnd() {
      if (finished) {
        return;
      }
      if (received != size) {
        fail(new DepotException(ErrorCode.SIZE_MISMATCH, "expected " + size + " bytes, received " + received));
        return;
      }
      finished = true;
      String sha256 = digest.finish();
      BlobManifest manifest = new BlobManifest(blobId, size, sha256, chunkSize, digest.chunkCrcs(), Instant.now().toString());
      if (downAlive) {
        down.end();
      }
      sink.commit(manifest).onComplete(ar -> downstreamStored.future().onComplete(downAr -> {
        if (ar.failed()) {
          log.error("could not store replica {}: {}", blobId, ar.cause().getMessage());
          sink.abort();
          if (downAlive) {
            down.reset();
          }
          done.tryFail(new DepotException(ErrorCode.INTERNAL, "replica write failed on " + nodeId + ": " + ar.cause().getMessage()));
          return;
        }
        JsonArray stored = new JsonArray().add(new JsonObject().put("node", nodeId).put("sha256", sha256));
        for (Object o : downAr.result()) {
          JsonObject replica = (JsonObject) o;
          if (sha256.equals(replica.getString("sha256"))) {
            stored.add(replica);
          } else {
            failed.add(new JsonObject().put("node", replica.getString("node")).put("error", "checksum differs from upstream"));
          }
        }
        done.tryComplete(new JsonObject().put("sha256", sha256).put("size", size).put("stored", stored).put("failed", failed));
      }));
    }

    private void fail(Throwable err) {
      if (done.future().isComplete()) {
        return;
      }
      finished = true;
      if (down != null && downAlive) {
        downAlive = false;
        down.reset();
      }
      sink.abort();
      done.tryFail(err);
    }
  }
}
