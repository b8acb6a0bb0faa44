"""Adapters: functions on framework arrays (torch tensors, jax arrays) as the numpy callables
gradcheck checks. Optional: each adapter imports its framework on first use (extras
``gradcheck[torch]``, ``gradcheck[jax]``); the core never does.

::

    from gradcheck import assert_gradient
    from gradcheck.adapters import torch as tg

    assert_gradient(tg.numpy_function(loss), tg.gradient(loss, wrt="W"), inputs=..., wrt="W")

``numpy_function(f)`` turns arrays into framework arrays and results back (complex inputs stay
complex, so the complex step runs through the framework where its operations allow it;
otherwise gradcheck falls back to finite differences); ``gradient``, ``vjp`` and ``jvp``
return what the framework's autodiff computes through the user's own rules (a custom
``torch.autograd.Function`` backward, a ``jax.custom_vjp``) as the claim to check.
"""
