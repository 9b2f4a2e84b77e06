@testable import BotOpsKit
import Remote
import Testing

/// A fact a step produces is read by later steps through `value()`, which fails the reading step
/// with a message naming the producer when that step has not run, instead of reading an empty
/// field as if the host had said so.
@Suite struct RunFactsTests {
    @Test func aFactReadBeforeItsProducerRanFailsNamingTheProducer() throws {
        var checkout = Produced<CheckoutBefore>(by: .step(.preflight))
        #expect(checkout.ifProduced == nil)
        let error = #expect(throws: Deployer.StepFailure.self) { try checkout.value() }
        #expect(error?.message.contains("before step preflight produced it: the playbook must run 'builtin: preflight' before this step") == true, "\(String(describing: error))")
        #expect(error?.refusal == nil)
        try checkout.produce(CheckoutBefore(branch: "main", revision: "0123"), by: .step(.preflight))
        #expect(try checkout.value() == CheckoutBefore(branch: "main", revision: "0123"))
    }

    /// The releases, the target and what ran before are facts too, each produced once: a deploy's
    /// by its steps (preflight, checkout, keep-image), `botops rollback`'s target and containers by
    /// its own reading before its steps. Read before that, each names who should have produced it.
    @Test func theReleasesTargetAndRunningContainersNameTheirProducer() throws {
        func failure(_ read: () throws -> Any) -> String {
            do { _ = try read(); return "read" } catch { return String(describing: error) }
        }
        let deploy = Deployer.RunState(action: .deploy)
        #expect(failure { try deploy.releases.value() }.contains("before step preflight produced it: the playbook must run 'builtin: preflight'"))
        #expect(failure { try deploy.resolvedTarget.value() }.contains("before step checkout produced it: the playbook must run 'builtin: checkout'"))
        #expect(failure { try deploy.running.value() }.contains("before step keep-image produced it: the playbook must run 'builtin: keep-image'"))
        #expect(failure { try deploy.runningRevision.value() }.contains("before step keep-image produced it"))
        let rollback = Deployer.RunState(action: .rollback, reading: "botops rollback's reading of the host")
        #expect(failure { try rollback.resolvedTarget.value() }.contains("before botops rollback's reading of the host produced it: this is a botops bug"))
        #expect(failure { try rollback.running.value() }.contains("before botops rollback's reading of the host produced it"))
        #expect(failure { try rollback.releases.value() }.contains("before botops rollback's reading of the host produced it"))
    }

    /// One producer per fact: a second step writing a fact another step produces is botops' own
    /// bug, refused naming both (it would silently replace what the first one read). Its own
    /// producer may write it again (a retried step starts over), and so may its updates.
    @Test func aFactWrittenByAnotherProducerIsRefusedNamingBoth() throws {
        var run = Deployer.RunState(action: .deploy)
        let target = Target(branch: "main", revision: "89ab")
        try run.resolvedTarget.produce(target, by: .step(.checkout))
        let error = #expect(throws: Deployer.StepFailure.self) {
            try run.resolvedTarget.produce(Target(branch: "main", revision: "0123"), by: .step(.preflight))
        }
        #expect(error?.message == "botops bug: step preflight produced Target, which only step checkout produces: please report it", "\(String(describing: error))")
        #expect(run.resolvedTarget.ifProduced == target)
        #expect(throws: Deployer.StepFailure.self) {
            try run.stopped.update(from: StoppedServices(), by: .step(.waitHealthy)) { $0.imagesToStart["sighook"] = "sha256:1" }
        }
        #expect(run.stopped.ifProduced == nil)
        let rollback = Deployer.RunState(action: .rollback, reading: "botops rollback's reading of the host")
        var running = rollback.running
        #expect(throws: Deployer.StepFailure.self) { try running.produce([:], by: .step(.keepImage)) }
        try running.produce([:], by: rollback.producer(.keepImage))
        try run.resolvedTarget.produce(Target(branch: "main", revision: "cdef"), by: .step(.checkout))
        #expect(run.resolvedTarget.ifProduced?.revision == "cdef")
    }

    /// A rollback's destination is not the run's target: rollback.yml's steps go there while it
    /// runs, and the target the deploy resolved (which the audit records) is left as it was.
    @Test func theRollbacksDestinationLeavesTheResolvedTarget() throws {
        var run = Deployer.RunState(action: .deploy)
        let attempted = Target(branch: "main", revision: "89ab"), before = Target(branch: "main", revision: "0123")
        try run.resolvedTarget.produce(attempted, by: .step(.checkout))
        #expect(run.target == attempted && !run.rollingBack)
        run.returningTo = before
        #expect(run.target == before && run.rollingBack)
        run.returningTo = nil
        #expect(run.target == attempted && (try? run.resolvedTarget.value()) == attempted)
    }

    /// Messages and the audit may be written before the preflight ran (a refused lock): they read
    /// the facts leniently and name no previous revision.
    @Test func theAuditBeforeThePreflightNamesNoPreviousRevision() throws {
        let config = try BotOpsConfig.parse("host: h\nservices: [sighook]")
        let deployer = Deployer.readOnly(config: config, runner: LocalHost())
        #expect(deployer.auditRecord(result: "refused").from == nil)
        #expect(deployer.auditRecord(result: "refused").sshUser == nil)
        try deployer.run.checkoutBefore.produce(CheckoutBefore(branch: "main", revision: "0123"), by: .step(.preflight))
        try deployer.run.sshUser.produce("bot", by: .step(.preflight))
        #expect(deployer.auditRecord(result: "refused").from == "0123")
        #expect(deployer.auditRecord(result: "refused").sshUser == "bot")
    }

    /// A checks (or wait-healthy) step that failed under `on_failure: continue` produced no
    /// verdict: the run goes on to record the release, which must say it is unverified (neither
    /// fail as a botops bug after the release went live, nor record it as last-known-good).
    @Test func aChecksStepThatFailedUnderContinueLeavesTheReleaseUnverified() throws {
        let config = try BotOpsConfig.parse("host: h\nservices: [sighook]")
        var run = Deployer.readOnly(config: config, runner: LocalHost()).run
        run.services = ["sighook"]
        #expect(run.unverifiedReason == "unverified: step checks failed (on_failure: continue)")
        try run.verdict.produce(ChecksVerdict(skipped: [], failingAsBefore: []), by: .step(.checks))
        #expect(run.unverifiedReason == "unverified: step wait-healthy failed (on_failure: continue)")
        try run.healthy.produce(HealthyContainers(), by: .step(.waitHealthy))
        #expect(run.unverifiedReason == nil)
        try run.verdict.produce(ChecksVerdict(skipped: [.reportFile], failingAsBefore: []), by: .step(.checks))
        #expect(run.unverifiedReason?.contains("1 check skipped") == true)
        // `deploy --host-files` waits for no container: the checks alone vouch for it.
        run.services = []
        run.healthy = Produced(by: .step(.waitHealthy))
        try run.verdict.produce(ChecksVerdict(skipped: [], failingAsBefore: []), by: .step(.checks))
        #expect(run.unverifiedReason == nil)
    }
}
