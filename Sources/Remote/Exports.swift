// Shell quoting and duration formatting live in the Basics leaf; the transport's clients quote
// with them, so importing Remote keeps bringing them along.
@_exported import Basics
