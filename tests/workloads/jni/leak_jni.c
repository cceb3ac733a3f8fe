/* The JNI library of tests/workloads/LeakJni.java: each call mallocs a
 * block and forgets it. Built at test time against the JDK's jni.h, in a
 * folder of its own: make builds each C file of tests/workloads as a
 * program, and needs no JDK. */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

JNIEXPORT jlong JNICALL Java_LeakJni_keepNative(JNIEnv *env, jclass cls, jint size)
{
	char *p = malloc((size_t)size);

	(void)env;
	(void)cls;
	if (p)
		memset(p, 1, (size_t)size);
	return (jlong)(uintptr_t)p;
}
