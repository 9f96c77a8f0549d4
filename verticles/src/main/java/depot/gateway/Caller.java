package depot.gateway;

/** Who is calling: a client (by id) or the operator holding the admin token. */
record Caller(String clientId, String nickname, boolean admin) {
  static final String KEY = "depot.caller";
}
