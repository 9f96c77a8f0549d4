package depot.protocol;

/** Machine-readable error codes shared by the HTTP API and the event bus, each with its HTTP status. */
public enum ErrorCode {
  BAD_REQUEST("bad_request", 400),
  INVALID_NAME("invalid_name", 400),
  INVALID_REPLICAS("invalid_replicas", 400),
  TOO_MANY_REPLICAS("too_many_replicas", 400),
  HASH_MISMATCH("hash_mismatch", 400),
  SIZE_MISMATCH("size_mismatch", 400),
  UNAUTHORIZED("unauthorized", 401),
  FORBIDDEN("forbidden", 403),
  NOT_FOUND("not_found", 404),
  METHOD_NOT_ALLOWED("method_not_allowed", 405),
  DUPLICATE_NAME("duplicate_name", 409),
  /** Replication out of step (a gap, a stale leader, an unknown session): the sender starts over. */
  CONFLICT("conflict", 409),
  LENGTH_REQUIRED("length_required", 411),
  TOO_LARGE("too_large", 413),
  RANGE_NOT_SATISFIABLE("range_not_satisfiable", 416),
  INTERNAL("internal", 500),
  UNAVAILABLE("unavailable", 503),
  /** Sent to a coordinator (or directory) that does not lead (any more): ask again, the leader will answer. */
  NOT_LEADER("not_leader", 503),
  INSUFFICIENT_STORAGE("insufficient_storage", 507),
  /**
   * A heap nearly full (the coordinator's holds the catalog, a storage node's its replica index): no new file,
   * client or replica there until files go or the heap grows.
   */
  INSUFFICIENT_MEMORY("insufficient_memory", 507);

  private final String code;
  private final int httpStatus;

  ErrorCode(String code, int httpStatus) {
    this.code = code;
    this.httpStatus = httpStatus;
  }

  public String code() {
    return code;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public static ErrorCode fromCode(String code) {
    for (ErrorCode c : values()) {
      if (c.code.equals(code)) {
        return c;
      }
    }
    return INTERNAL;
  }
}
