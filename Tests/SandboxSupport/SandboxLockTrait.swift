import Testing

/// `@Suite(.holdingTheSandboxLock)`: each test of the suite (each case of a parameterized one) runs
/// holding the sandbox lock, for suites whose tests use the shared host (its sshd, docker, crontab)
/// without a scene helper of their own that takes it. Such a test must not take the lock again:
/// a second flock(2) from this process would wait for the first (TestPhasesTests checks it).
public struct HoldingTheSandboxLock: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        testCase == nil ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await SandboxLock.holding { try await function() }
    }
}

extension Trait where Self == HoldingTheSandboxLock {
    /// Each test runs holding the sandbox lock.
    public static var holdingTheSandboxLock: Self { HoldingTheSandboxLock() }
}
