@testable import HostState
import Testing

/// The lock holder's idle time, from the host's clock and its record's mtime (pure).
@Suite struct LockIdleTests {
    @Test func theIdleTimeIsTheHostsNowLessTheRecordsWrite() {
        #expect(DeployLock.idleSeconds("1000 400") == 600)
        #expect(DeployLock.idleSeconds("1000 1000") == 0)
    }

    /// A record written after the host's now (its clock stepped back) is an unknown idle time,
    /// never a negative one.
    @Test func aRecordFromTheFutureHasAnUnknownIdleTime() {
        #expect(DeployLock.idleSeconds("1000 1300") == nil)
    }

    @Test func anUnreadableClockOrRecordIsAnUnknownIdleTime() {
        #expect(DeployLock.idleSeconds(" 400") == nil)
        #expect(DeployLock.idleSeconds("1000 ") == nil)
        #expect(DeployLock.idleSeconds("date: not found 400") == nil)
    }
}
