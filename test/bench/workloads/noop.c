/* Exits 0 at once. Linked statically by the bench, so an exec of it costs the kernel's exec and
 * nothing of the dynamic loader's: the cheapest program there is to start, for exec loops. */
int main(void)
{
    return 0;
}
