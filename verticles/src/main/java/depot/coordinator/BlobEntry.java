package depot.coordinator;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One stored content of one client: its replicas' locations and the files that use it. Content is
 * shared only between files of the same owner, so deduplication never leaks another client's data.
 */
final class BlobEntry {
  final String blobId;
  final String owner;
  final String sha256;
  final long size;
  final Set<String> nodes = new LinkedHashSet<>();
  final Set<String> files = new LinkedHashSet<>();
  long orphanedAt;

  BlobEntry(String blobId, String owner, String sha256, long size) {
    this.blobId = blobId;
    this.owner = owner;
    this.sha256 = sha256;
    this.size = size;
  }
}
