"""The SU7 demo program: about 300 parts from 40 suppliers, 120 validation tests and 6 handover areas,
with dates relative to today. Mostly on track, with some late parts, a failed crash test, a capacity
shortfall and a silent supplier, so that the gate has something true to say.

Deterministic: the same day gives the same data, and loading it twice changes nothing. `seed_demo` loads it only
where it is missing (or with --refresh), so a restart of `make run` keeps what anyone changed in it.
"""
