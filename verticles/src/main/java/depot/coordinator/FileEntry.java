package depot.coordinator;

/** A name in a client's space, pointing at the blob that holds its current version. */
final class FileEntry {
  final String owner;
  final String name;
  String blobId;
  long version;
  int replicas;
  String depositedAt;
  long lamport;

  FileEntry(String owner, String name) {
    this.owner = owner;
    this.name = name;
  }

  String key() {
    return Catalog.key(owner, name);
  }
}
