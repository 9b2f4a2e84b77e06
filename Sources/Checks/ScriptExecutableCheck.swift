/// The runbook's check 2: `ls -la /opt/bot/weekly_strategy_review.sh`.
struct ScriptExecutableCheck: FactCheck {
    let id = CheckID.scriptExecutable
    let title = "Report script exists and is executable"
    let prerequisites: [CheckID] = []

    func source(in probes: CheckProbes) -> ProbedFact<HostFacts> {
        probes.hostFacts
    }

    func evaluate(_ facts: HostFacts, settings: CheckSettings) -> Verdict {
        let path = settings.path(settings.reportScript)
        guard let stat = facts.script else {
            return .fail("\(path) is missing. Restore it: git -C \(settings.appPath) checkout -- \(settings.reportScript)", [Evidence("path", path)])
        }
        let evidence = [Evidence("path", path), Evidence("mode", "\(stat.symbolicMode) (\(stat.octalMode))"),
                        Evidence("owner", stat.owner), Evidence("size", String(stat.size))]
        guard stat.kind == "regular file" else {
            return .fail("\(path) is a \(stat.kind), not a regular file.", evidence)
        }
        guard facts.scriptExecutable else {
            return .fail("\(path) is not executable (\(stat.symbolicMode)). Fix: chmod +x \(path)", evidence)
        }
        return .pass("\(stat.symbolicMode) \(stat.owner) \(path)", evidence)
    }
}
