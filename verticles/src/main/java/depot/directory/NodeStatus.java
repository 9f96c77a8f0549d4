package depot.directory;

/** What the directory knows of a registration's liveness. */
public enum NodeStatus {
  UP, DOWN
}
