@testable import BotOpsKit
import Foundation
import HostCommands
import Testing

/// `deploy --dry-run` shows what runs if the deploy fails: after the deploy's steps, the rollback's
/// (rollback.yml without its lock step), planned by the same steps a real rollback executes and
/// named as that run names them, in text and in `--format json`.
@Suite struct DeployPlanRollbackTests {
    func plan() throws -> (Deployer, [DeployEvent]) {
        let deployer = try DeployPlanTests().deployer()
        return (deployer, deployer.plannedDeploy())
    }

    @Test func theDryRunListsTheRollbackStepsAfterTheDeploySteps() throws {
        let (deployer, events) = try plan()
        let section = try #require(events.firstIndex { if case .notice = $0 { true } else { false } }, "no rollback section in \(events)")
        func steps(_ events: ArraySlice<DeployEvent>) -> [String] {
            events.compactMap { if case .stepStarted(let name, _, _) = $0 { name } else { nil } }
        }
        #expect(steps(events[..<section]) == deployer.deploySteps.map(\.name))
        let rollback = deployer.rollbackSteps(restartContainers: true)
        #expect(rollback.map(\.name) == ["checkout", "restore-image", "stop", "up", "wait-healthy", "checks"])
        #expect(steps(events[(section + 1)...]) == rollback.map { "rollback: " + $0.name })
        guard case .notice(let text) = events[section] else { return }
        #expect(text.contains("rollback.yml runs back to \(deployer.previousTarget.display): checkout, restore-image, stop, up, wait-healthy, checks"), "\(text)")
        #expect(text.contains("only checkout, restore-image, checks"), "\(text)")

        // Each rollback step plans the commands its run would send: back to the revision that ran, with the kept images.
        var planned: [String: [String]] = [:]
        for case .planned(let step, let command, _) in events[(section + 1)...] { planned[step, default: []].append(command) }
        let commands = deployer.commands
        // The deploy's steps plan from the deploy's target, the rollback's from the revision that ran.
        let deployCheckout = events[..<section].compactMap { if case .planned("checkout", let command, _) = $0 { command } else { nil } }
        #expect(deployCheckout.last == commands.checkout(Target(branch: "main", revision: DeployPlanTests.after), timeout: .seconds(120)).displayText)
        #expect(planned["rollback: checkout"] == [commands.checkout(Target(branch: "main", revision: DeployPlanTests.before), timeout: .seconds(120)).displayText])
        #expect(planned["rollback: restore-image"] == ["sighook", "webhook"].map {
            commands.tag("bottrader/\($0):botops-\(DeployPlanTests.before.prefix(12))", as: "bottrader/\($0):latest", timeout: .seconds(1800)).displayText
        })
        #expect(planned["rollback: checks"]?.isEmpty == false)
        // Planning the rollback leaves the deploy's target as it was.
        #expect(deployer.run.target == Target(branch: "main", revision: DeployPlanTests.after))
    }

    /// `--no-rollback`: a failure leaves the host as the failed step left it, so no rollback step
    /// is planned and the notice says so.
    @Test func withNoRollbackTheDryRunPlansNoRollback() throws {
        let deployer = try DeployPlanTests().deployer()
        deployer.run.request = DeployRequest(services: deployer.run.services, ref: nil, command: "botops deploy --dry-run --no-rollback")
        deployer.run.request?.noRollback = true
        let events = deployer.plannedDeploy()
        let started = events.compactMap { if case .stepStarted(let name, _, _) = $0 { name } else { nil } }
        #expect(started == deployer.deploySteps.map(\.name), "\(started)")
        let notices = events.compactMap { if case .notice(let text) = $0 { text } else { nil } }
        #expect(notices.count == 1 && notices[0].hasPrefix("--no-rollback: ") && notices[0].contains("rollback.yml does not run"), "\(notices)")
    }

    @Test func jsonAndTextNameTheRollbackSteps() throws {
        let (_, events) = try plan()
        let json = events.compactMap(JSONEventRenderer().render).map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
        let rollbackCheckout = json.filter { $0["event"] as? String == "planned" && $0["step"] as? String == "rollback: checkout" }
        #expect(rollbackCheckout.count == 1)
        #expect(json.contains { $0["event"] as? String == "notice" && ($0["message"] as? String)?.hasPrefix("if a step fails once the checkout has moved") == true })
        let text = events.compactMap(TextEventRenderer().render)
        #expect(text.contains("[1/6] rollback: checkout"), "\(text)")
        #expect(text.contains { $0.hasPrefix("  ! if a step fails once the checkout has moved") })
    }
}
