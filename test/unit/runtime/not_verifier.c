/* A shared library that is not a gamma verifier (no gamma_verifier_info). */
int gamma_something_else(void) { return 42; }
