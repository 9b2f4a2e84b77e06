import Basics
import Checks
import Foundation

/// The text screen of `botops status`. Host text goes through `terminalSafe`; colour only when asked.
public struct StatusText: Sendable {
    public let colour: Bool

    public init(colour: Bool) {
        self.colour = colour
    }

    private func paint(_ text: String, _ good: Bool?) -> String {
        guard colour, let good else { return text }
        return (good ? "\u{1B}[32m" : "\u{1B}[31m") + text + "\u{1B}[0m"
    }

    public func render(_ status: HostStatus) -> String {
        var lines = ["\(status.destination)  read at \(formatUTC(status.readAt)) in \(status.durationMS) ms"]
        lines.append("services")
        for container in status.services + [status.database] {
            lines.append("  " + row(container))
        }
        let checkout = status.checkout
        if !checkout.present {
            lines.append("checkout   " + paint("missing", false))
        } else if checkout.revision == nil {
            lines.append("checkout   " + paint("unreadable", false) + ": git could not read it as this user (see git status in the checkout)")
        } else {
            let state = checkout.clean ? paint("clean", true) : paint("changed: " + checkout.changed.prefix(5).joined(separator: ", ")
                + (checkout.changed.count > 5 ? " and \(checkout.changed.count - 5) more" : ""), false)
            lines.append("checkout   \(checkout.branch ?? "detached") at \((checkout.revision ?? "?").prefix(12)), \(terminalSafe(state))")
        }
        if let problem = status.releasesProblem {
            lines.append("releases   " + paint("unreadable: ", false) + terminalSafe(problem))
        }
        switch status.lock.state {
        case "free":
            lines.append("lock       free" + (status.lock.interrupted.map { "; last holder never released it (interrupted): \(terminalSafe($0.summary))" } ?? ""))
        default:
            lines.append("lock       " + paint(status.lock.state, false) + ": " + terminalSafe(status.lock.holder?.summary ?? "holder unknown"))
        }
        if let deploy = status.lastDeploy {
            let good = deploy.result == "success"
            lines.append("last deploy \(deploy.time) \(deploy.action) \(deploy.services.joined(separator: ",")) " + paint(deploy.result, good)
                + (deploy.to.map { " → \($0.prefix(12))" } ?? ""))
        } else {
            lines.append("last deploy none recorded")
        }
        if let problem = status.cronProblem {
            lines.append("cron       " + paint("unreadable: ", false) + terminalSafe(problem))
        }
        for entry in status.cron {
            lines.append("cron       \(entry.name) '\(entry.schedule)' \(entry.zone) " + paint(entry.installed, entry.installed == "installed"))
            if let next = entry.next { lines.append("             next \(next.local) (\(next.utc))") }
            if let last = entry.last {
                let evidence = entry.evidence.map { " " + paint($0 == "pass" ? "evidence found" : "no evidence", $0 == "pass") } ?? ""
                lines.append("             last \(last.local) (\(last.utc))" + evidence)
            }
        }
        if let report = status.newestReport {
            lines.append("report     \(terminalSafe(report.path)), \(report.size) bytes, \(formatAge(report.ageSeconds)) ago")
        } else {
            lines.append("report     none")
        }
        if let backup = status.newestVerifiedBackup {
            lines.append("backup     \(backup.id), verified" + (backup.ageSeconds.map { ", \(formatAge(max(0, $0))) ago" } ?? ""))
        } else {
            lines.append("backup     " + paint("none", false) + " verified")
        }
        lines.append("disk free  " + status.disk.map { "\($0.name) \(formatBytes($0.freeBytes)) (\(terminalSafe($0.mount)))" }.joined(separator: ", "))
        let versions = status.botops
        lines.append("botops     here \(versions.local), host " + paint(terminalSafe(versions.host.shown), versions.same ?? (versions.host == .notInstalled ? nil : false))
                     + (versions.same == false ? ", differs: botops install-host" : "")
                     + (versions.hostUnlimited ? " (its --version ran without a time limit: the host has no timeout command)" : ""))
        for problem in status.problems {
            lines.append(paint("could not read ", false) + terminalSafe(problem))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func row(_ container: HostStatus.Container) -> String {
        guard container.container != nil else {
            return container.service.padding(toLength: 12, withPad: " ", startingAt: 0) + paint("missing", false)
        }
        let good = container.state == "running" && container.health != "unhealthy"
        var text = container.service.padding(toLength: 12, withPad: " ", startingAt: 0) + paint(container.state, good)
        if let health = container.health { text += " (" + paint(health, health == "healthy") + ")" }
        if let uptime = container.uptimeSeconds { text += ", up \(formatAge(uptime))" }
        if let restarts = container.restarts { text += ", \(restarts) restarts" }
        if let image = container.image {
            let revision = container.revision.map { String($0.prefix(12)) + (container.lastVerified ? " (last verified)" : " (an older release)") }
            text += ", \(terminalSafe(image)) " + (revision ?? "revision unknown")
        }
        return text
    }
}
