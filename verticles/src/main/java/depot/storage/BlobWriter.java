package depot.storage;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
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
 * local file or the downstream connection is full. The local copy is fsynced and atomically renamed
 * before this node answers; a failing downstream does not fail the local copy, it is reported.
 */
public final class BlobWriter {
  private static final Logger log = LoggerFactory.getLogger(BlobWriter.class);
  /** Bounded per-transfer buffering: the node never holds a whole file in memory. */
  private static final int WRITE_QUEUE_BYTES = 1024 * 1024;

  private final Vertx vertx;
  private final BlobStore store;
  private final HttpClient client;
  private final String nodeId;
  private final int chunkSize;
  private final String clusterSecret;

  public BlobWriter(Vertx vertx, BlobStore store, HttpClient client, String nodeId, int chunkSize, String clusterSecret) {
    this.vertx = vertx;
    this.store = store;
    this.client = client;
    this.nodeId = nodeId;
    this.chunkSize = chunkSize;
    this.clusterSecret = clusterSecret;
  }

  /**
   * Writes {@code size} bytes from {@code source} (paused by the caller) as replica {@code blobId}.
   * Completes with {@code {"sha256", "size", "stored": [{"node","sha256"}], "failed": [{"node","error"}]}}.
   */
  public Future<JsonObject> write(ReadStream<Buffer> source, String blobId, long size, List<PipelineHop> downstream) {
    return new Transfer(source, blobId, size, downstream).run();
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
    private final String temp;
    private final StreamDigest digest = new StreamDigest(chunkSize);
    private final Promise<JsonObject> done = Promise.promise();
    private final JsonArray failed = new JsonArray();
    private final Promise<JsonArray> downstreamStored = Promise.promise();
    private AsyncFile file;
    private HttpClientRequest down;
    private boolean downAlive;
    private boolean paused = true;
    private boolean finished;
    private long received;

    Transfer(ReadStream<Buffer> source, String blobId, long size, List<PipelineHop> downstream) {
      this.source = source;
      this.blobId = blobId;
      this.size = size;
      this.downstream = downstream;
      this.temp = store.newTempPath(blobId);
    }

    Future<JsonObject> run() {
      Future<AsyncFile> opened = vertx.fileSystem().open(temp, new OpenOptions().setWrite(true).setCreateNew(true));
      Future<HttpClientRequest> forwarded = downstream.isEmpty()
          ? Future.succeededFuture()
          : openDownstream(blobId, size, downstream).recover(err -> {
            downstreamFailed(err);
            return Future.succeededFuture();
          });
      Future.join(opened, forwarded).onComplete(ar -> {
        if (opened.failed()) {
          if (forwarded.result() != null) {
            forwarded.result().reset();
          }
          fail(opened.cause());
          return;
        }
        file = opened.result();
        down = forwarded.result();
        start();
      });
      return done.future();
    }

    private void start() {
      file.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
      file.exceptionHandler(this::fail);
      file.drainHandler(v -> maybeResume());
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
      file.write(buf);
      if (downAlive) {
        down.write(buf);
      }
      if (file.writeQueueFull() || (downAlive && down.writeQueueFull())) {
        paused = true;
        source.pause();
      }
    }

    private void maybeResume() {
      if (paused && !finished && !file.writeQueueFull() && !(downAlive && down.writeQueueFull())) {
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
      Future<Void> local = file.flush()
          .compose(v -> file.close())
          .compose(v -> store.commit(temp, manifest));
      local.onComplete(ar -> downstreamStored.future().onComplete(downAr -> {
        if (ar.failed()) {
          log.error("could not store replica {}: {}", blobId, ar.cause().getMessage());
          store.discard(temp);
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
      if (file != null) {
        file.close().onComplete(v -> store.discard(temp));
      } else {
        store.discard(temp);
      }
      done.tryFail(err);
    }
  }
}
