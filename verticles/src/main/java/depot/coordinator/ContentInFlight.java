package depot.coordinator;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.HashMap;
import java.util.Map;

/**
 * The uploads under way of content a client announced (its SHA-256), so that a second deposit of the same content
 * by the same client, begun before the first is committed, can wait for it and point at its replicas instead of
 * storing the content a second time. Held on the coordinator's event loop.
 */
final class ContentInFlight {
  private record Upload(String uploadId, Promise<Void> ended) {}

  private final Map<String, Upload> byContent = new HashMap<>();
  private final Map<String, String> contentByUpload = new HashMap<>();

  /** The end of the upload of this content by this owner, if one is under way; else null. */
  Future<Void> pending(String owner, String sha256) {
    Upload u = byContent.get(key(owner, sha256));
    return u == null ? null : u.ended().future();
  }

  /** An upload of announced content has been allocated; the first one of a content is the one others wait for. */
  void started(String owner, String sha256, String uploadId) {
    String key = key(owner, sha256);
    if (!byContent.containsKey(key)) {
      byContent.put(key, new Upload(uploadId, Promise.promise()));
      contentByUpload.put(uploadId, key);
    }
  }

  /** The upload was committed (its content now in the catalog), given up or expired: whoever waited goes on. */
  void ended(String uploadId) {
    String key = contentByUpload.remove(uploadId);
    if (key != null) {
      byContent.remove(key).ended().tryComplete();
    }
  }

  /** Leadership lost: every wait ends (the waiting deposits are answered not_leader, and asked again of the new leader). */
  void clear() {
    byContent.values().forEach(u -> u.ended().tryComplete());
    byContent.clear();
    contentByUpload.clear();
  }

  private static String key(String owner, String sha256) {
    return owner + "/" + sha256;
  }
}
