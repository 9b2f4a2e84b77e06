@testable import Remote
import Testing

/// The local transport's time limit, on instants the test chooses: no waiting, no wall time.
@Suite struct CommandDeadlineTests {
    let start = ContinuousClock.now

    @Test func withoutATimeoutNothingExpiresAndPollWaitsWithoutLimit() {
        let deadline = CommandDeadline(timeout: nil, start: start)
        #expect(!deadline.isExpired(at: start.advanced(by: .seconds(86_400))))
        #expect(pollMilliseconds(deadline.timeLeft(at: start)) == -1)
    }

    @Test func pollWaitsUntilTheDeadlineRoundedUp() {
        let deadline = CommandDeadline(timeout: .milliseconds(200), start: start)
        // A sub-second rest is waited whole (a 1 ms poll per pass was a busy loop on 2 CPUs).
        #expect(pollMilliseconds(deadline.timeLeft(at: start)) == 200)
        #expect(pollMilliseconds(deadline.timeLeft(at: start.advanced(by: .microseconds(150_200)))) == 50)
        #expect(pollMilliseconds(deadline.timeLeft(at: start.advanced(by: .microseconds(199_900)))) == 1)
        #expect(!deadline.isExpired(at: start.advanced(by: .microseconds(199_999))))
    }

    @Test func theDeadlineExpiresAtItsInstantAndNeverWaitsNegative() {
        let deadline = CommandDeadline(timeout: .milliseconds(200), start: start)
        #expect(deadline.isExpired(at: start.advanced(by: .milliseconds(200))))
        #expect(pollMilliseconds(deadline.timeLeft(at: start.advanced(by: .seconds(5)))) == 0)
    }

    @Test func longTimeoutsClampToPollsRange() {
        let deadline = CommandDeadline(timeout: .seconds(86_400 * 60), start: start)
        #expect(pollMilliseconds(deadline.timeLeft(at: start)) == Int32.max)
        #expect(pollMilliseconds(.seconds(3600)) == 3_600_000)
    }
}
