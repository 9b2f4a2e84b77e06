// The lock, the audit and the release record are part of what BotOpsKit's commands take and
// return, and exit codes are in every error: its clients keep one import.
@_exported import Basics
@_exported import HostState
