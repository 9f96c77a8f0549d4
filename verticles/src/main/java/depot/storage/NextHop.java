package depot.storage;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import depot.protocol.Headers;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A pipeline node's side of its next hop, the same for one replica ({@link BlobWriter}) and for a batch
 * ({@link BatchWriter}): the request that hands the hop the rest of the pipeline, its answer, and which of
 * the copies it reports count as this node's content.
 */
final class NextHop {
  private NextHop() {}

  /** A PUT of {@code length} bytes to {@code path} on the first of {@code downstream}, naming the hops after it. */
  static RequestOptions put(List<PipelineHop> downstream, String path, long length, String clusterSecret, String fromNode) {
    return new RequestOptions().setMethod(HttpMethod.PUT)
        .setAbsoluteURI(downstream.get(0).url() + path)
        .putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(length))
        .putHeader(Headers.PIPELINE, PipelineHop.format(downstream.subList(1, downstream.size())))
        .putHeader(Headers.CLUSTER_SECRET, clusterSecret)
        .putHeader(Headers.UPSTREAM, fromNode)
        .setIdleTimeout(30_000);
  }

  /** The hop's report (201 and JSON); any other answer is the hop's failure. */
  static Future<JsonObject> report(HttpClientRequest down) {
    return down.response().compose(resp -> resp.body().map(body -> {
      if (resp.statusCode() != 201) {
        throw new DepotException(ErrorCode.UNAVAILABLE, "downstream answered " + resp.statusCode() + ": " + body);
      }
      return body.toJsonObject();
    }));
  }

  /** One durable copy, as a report lists it. */
  static JsonObject copy(String node, String sha256, String chunks) {
    return new JsonObject().put("node", node).put("sha256", sha256).put("chunks", chunks);
  }

  /**
   * Whether a copy reported by the next hops holds this node's content: the same chunk checksums (unless
   * this node's own copy was lost, {@code chunks} null) and the same SHA-256.
   */
  static boolean sameContent(String sha256, String chunks, JsonObject copy) {
    return (chunks == null || chunks.equals(copy.getString("chunks"))) && sha256.equals(copy.getString("sha256"));
  }

  /** What a report says of a copy that is not this node's content. */
  static JsonObject differs(JsonObject copy) {
    return new JsonObject().put("node", copy.getString("node")).put("error", "checksum differs from upstream");
  }
}
