import Foundation
import HostCommands
import Remote

/// `builtin: lock`: takes the deploy lock on the host (released on every exit path).
struct LockStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.takeLock()
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        [deployer.lock.acquireCommand(.current(command: deployer.run.request?.command ?? "botops"))]
    }
}

extension Deployer {
    fileprivate func takeLock() async throws -> String? {
        let request = run.request
        let emit = self.emit
        let held = try await acquireLock(.current(command: request?.command ?? "botops"), request?.lockWait, { holder in
            emit(.notice("waiting for the deploy lock, held by \(holder?.summary ?? "another deploy")"))
        }, { command in
            emit(.notice("waiting for a command of an earlier deploy that still runs on the host: \(command)"))
        })
        setHeldLock(held)
        try await afterLock()
        if let interrupted = held.interrupted {
            // Its stoppable steps' commands (a build, say) may still run: they would run beside ours.
            if let stopped = try? await hostRunner.run(stepRunner.orphansStopCommand()), !stopped.succeeded {
                emit(.warning("could not stop what the interrupted deploy left running: \(stopped.shownOutput)"))
            }
            emit(.notice("the previous deploy was interrupted without releasing the lock: \(interrupted.summary). Its step may have left the host half-changed; this run verifies before and after."))
            var record = AuditRecord(action: "interrupted", command: interrupted.command, result: "interrupted")
            record.localUser = interrupted.user
            record.machine = interrupted.machine
            record.to = interrupted.revision
            record.failure = "stopped during step \(interrupted.step); found by the next run"
            await appendAudit(record)
        }
        return "held by \(held.holder.user)@\(held.holder.machine)"
    }
}
