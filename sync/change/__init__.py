"""Change control (issue 17): saved plans, the blast-radius breaker, rollback, the model gate.

A run's plan is the control point a RevOps lead signs off: ``tierwise plan --out`` saves
it, ``tierwise apply`` writes exactly it (or refuses it when the CRM or the model moved
since), a run that would re-tier too much of the book is held as a saved plan, and each
write keeps the values it replaced so ``tierwise rollback`` can put them back.
"""
