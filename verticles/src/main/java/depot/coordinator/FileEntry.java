package depot.coordinator;

import java.time.Instant;

/** A name in a client's space, pointing at the blob that holds its current version. */
final class FileEntry {
  private static final long UNKNOWN = Long.MIN_VALUE;

  final String owner;
  final String name;
  String blobId;
  long version;
  int replicas;
  /**
   * When this version was deposited, in nanoseconds since the epoch (an {@link Instant}'s text, which the
   * journal carries, took about 70 bytes a file here; this takes 8 and reads back the same text).
   */
  private long depositedAtNanos = UNKNOWN;
  long lamport;

  FileEntry(String owner, String name) {
    this.owner = owner;
    this.name = name;
  }

  String key() {
    return Catalog.key(owner, name);
  }

  /** The deposit time as ISO-8601 text ({@link Instant#toString()}), null if the operation did not say. */
  String depositedAt() {
    return depositedAtNanos == UNKNOWN ? null : Instant.ofEpochSecond(0, depositedAtNanos).toString();
  }

  long depositedAtNanos() {
    return depositedAtNanos;
  }

  /** @param iso an {@link Instant}'s text, as operations carry it (null: not known) */
  void depositedAt(String iso) {
    if (iso == null) {
      depositedAtNanos = UNKNOWN;
      return;
    }
    Instant at = Instant.parse(iso);
    depositedAtNanos = Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000_000L), at.getNano());
  }
}
