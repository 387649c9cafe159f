"""Identities and roles, scenarios (一场景一审核), provider consent, authorizations, disclosure."""
