package depot.coordinator;

import org.junit.jupiter.api.Test;

import static depot.coordinator.CoordinatorVerticle.followerAhead;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** When a follower's copy of the catalog makes the leader re-run the election. */
class FollowerAheadTest {
  // The leader took over in term 5 with the catalog of term 4 up to Lamport 40, and has issued up to 52 since.
  static final long TERM = 5;
  static final long ISSUED = 52;
  static final long FROM_TERM = 4;
  static final long FROM_LAMPORT = 40;

  @Test
  void aFollowerHoldingAnOperationTheLeaderHasNotAppliedYetIsNotAhead() {
    // Op 52 is on the follower's disk, the leader still waits for its own fsync: applied is 51, issued 52.
    assertFalse(followerAhead(TERM, 52, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
    // The first operation of a new term reaches a follower before the leader applied it.
    assertFalse(followerAhead(TERM, 41, TERM, 41, FROM_TERM, FROM_LAMPORT));
  }

  @Test
  void aFollowerBehindOrAtTheTakeOverPointIsNotAhead() {
    assertFalse(followerAhead(TERM, 45, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
    assertFalse(followerAhead(FROM_TERM, FROM_LAMPORT, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
    assertFalse(followerAhead(FROM_TERM, 30, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
    assertFalse(followerAhead(3, 90, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
  }

  @Test
  void aCopyWithWhatTheLeaderNeverHadIsAhead() {
    // The previous leader's operations the new leader did not take over with.
    assertTrue(followerAhead(FROM_TERM, 44, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
    // Beyond what this leader issued, or of a later term.
    assertTrue(followerAhead(TERM, 53, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
    assertTrue(followerAhead(TERM + 1, 1, TERM, ISSUED, FROM_TERM, FROM_LAMPORT));
  }
}
