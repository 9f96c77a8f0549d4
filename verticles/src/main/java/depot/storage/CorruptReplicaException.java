package depot.storage;

/** A replica's bytes no longer match their chunk checksum: they must never be served. */
public class CorruptReplicaException extends RuntimeException {
  private final String blobId;
  private final long chunk;

  public CorruptReplicaException(String blobId, long chunk) {
    super("replica " + blobId + " is corrupt at chunk " + chunk, null, false, false);
    this.blobId = blobId;
    this.chunk = chunk;
  }

  public String blobId() {
    return blobId;
  }

  public long chunk() {
    return chunk;
  }
}
